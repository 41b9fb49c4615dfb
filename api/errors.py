"""One error shape for the whole API (drf-standardized-errors):
`{"type": "validation_error", "errors": [{"code": ..., "detail": ..., "attr": "field"}]}`.
The services raise Django's exceptions; they become the API's own here, keeping their messages."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
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


def _error(kind: str, code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"type": kind, "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status
    )


# Django's own error views, in the API's shape under /api/ (a URL that matches no route, a request Django
# refuses before any view runs, a crash); the site's pages keep the usual ones.
def not_found(request, exception):
    if request.path.startswith("/api/"):
        return _error("client_error", "not_found", "Not found.", 404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception):
    if request.path.startswith("/api/"):
        return _error("client_error", "bad_request", "Bad request.", 400)
    return defaults.bad_request(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return _error("server_error", "error", "Server Error (500)", 500)
    return defaults.server_error(request)
