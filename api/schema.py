"""OpenAPI: every operation documents its error responses in the one error shape (drf-standardized-errors),
widened where the services, not the serializers, decide."""

from drf_spectacular.utils import OpenApiExample
from drf_standardized_errors.openapi import AutoSchema as StandardSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ValidationErrorEnum
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class FieldError(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True, help_text="The field; dotted when nested (rows.3.title)")


class ValidationErrorResponse(serializers.Serializer):
    type = serializers.ChoiceField(choices=ValidationErrorEnum.choices)
    # A field named as a Serializer property: DRF's metaclass moves it into the declared fields.
    errors = FieldError(many=True)  # type: ignore[assignment]


class ConflictResponse(serializers.Serializer):
    """409: the move is not allowed in the record's present state (already decided, already answered, a
    cohort already confirmed, the organization's last admin leaving); see `errors.CONFLICT_CODES`."""

    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = FieldError(many=True)  # type: ignore[assignment]  # a field, as above


CONFLICT_EXAMPLE = OpenApiExample(
    "Already decided",
    value={
        "type": "client_error",
        "errors": [
            {"code": "already_decided", "detail": "This request has already been decided.", "attr": None}
        ],
    },
    response_only=True,
    status_codes=["409"],
)


class AutoSchema(StandardSchema):
    def _should_add_http403_error_response(self) -> bool:
        # the services refuse what a signed-in caller may not do (not your posting, not the secretariat)
        return not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _should_add_validation_error_response(self) -> bool:
        # every write goes through a service, which reports its own field errors and illegal moves
        return self.method in ("PUT", "PATCH", "POST") or super()._should_add_validation_error_response()

    def _get_serializer_for_validation_error_response(self) -> type[serializers.Serializer]:
        # the services' messages name fields and codes the request serializer does not list
        return ValidationErrorResponse

    # A write on an existing record may find it in a state that forbids the move: 409 (see errors.py).
    def _get_allowed_error_status_codes(self) -> list[str]:
        return [*super()._get_allowed_error_status_codes(), "409"]

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "409":
            return status_code not in responses and self.method != "GET" and "{" in self.path
        return super()._should_add_error_response(responses, status_code)

    def _get_error_response_serializer(
        self, status_code: str
    ) -> type[serializers.Serializer] | serializers.Serializer:
        if status_code == "409":
            return ConflictResponse
        return super()._get_error_response_serializer(status_code)

    def _get_error_response_examples(self) -> list[OpenApiExample]:
        return [*super()._get_error_response_examples(), CONFLICT_EXAMPLE]
