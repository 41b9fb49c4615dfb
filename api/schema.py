"""OpenAPI: every operation documents its error responses in the one error shape (drf-standardized-errors),
widened where the services, not the serializers, decide."""

from drf_standardized_errors.openapi import AutoSchema as StandardSchema
from drf_standardized_errors.openapi_serializers import ValidationErrorEnum
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class FieldError(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True, help_text="The field; dotted when nested (rows.3.title)")


class ValidationErrorResponse(serializers.Serializer):
    type = serializers.ChoiceField(choices=ValidationErrorEnum.choices)
    errors = FieldError(many=True)


class AutoSchema(StandardSchema):
    def _should_add_http403_error_response(self) -> bool:
        # the services refuse what a signed-in caller may not do (not your posting, not the secretariat)
        return not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _should_add_validation_error_response(self) -> bool:
        # every write goes through a service, which reports its own field errors and illegal moves
        return self.method in ("PUT", "PATCH", "POST") or super()._should_add_validation_error_response()

    def _get_serializer_for_validation_error_response(self):
        # the services' messages name fields and codes the request serializer does not list
        return ValidationErrorResponse
