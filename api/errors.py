"""One error shape for the whole API (drf-standardized-errors):
`{"type": "validation_error", "errors": [{"code": ..., "detail": ..., "attr": "field"}]}`.
The services raise Django's exceptions; they become the API's own here, keeping their messages."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from drf_standardized_errors.handler import ExceptionHandler as StandardHandler
from rest_framework import exceptions
from rest_framework.fields import get_error_detail


class ExceptionHandler(StandardHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, ValidationError):
            detail = get_error_detail(exc)  # keeps each message's code
            return exceptions.ValidationError(
                detail if isinstance(detail, dict) else {"non_field_errors": detail}
            )
        if isinstance(exc, PermissionDenied):
            return exceptions.PermissionDenied(str(exc) or None)
        if isinstance(exc, Http404):
            return exceptions.NotFound()
        return exc
