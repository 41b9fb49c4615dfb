"""One error shape for the whole API (drf-standardized-errors):
`{"type": "validation_error", "errors": [{"code": ..., "detail": ..., "attr": "field"}]}`.
The services raise Django's exceptions; they become the API's own here, keeping their messages."""

import sys

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views import defaults
from drf_standardized_errors.handler import ExceptionHandler as StandardHandler
from rest_framework import exceptions
from rest_framework.fields import get_error_detail
from rest_framework.response import Response

from config import read_only
from marketplace.ratelimits import PostingRateLimited

# The services' codes for a move that the record's present state forbids: 409 rather than 400.
CONFLICT_CODES = {
    # postings and matches (marketplace.lifecycle, matching.lifecycle)
    *("illegal_transition", "not_editable", "already_in_touch", "already_answered", "already_reported"),
    # roles and organizations
    *("already_decided", "already_accepted", "last_admin"),
    # case studies
    *("not_completed", "no_case_study", "not_consented", "already_public", "no_consent"),
    # mentoring
    *("request_closed", "already_proposed", "cohort_confirmed", "paired_elsewhere", "empty_cohort"),
    "pairing_inactive",
}


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"


def too_large_message() -> str:
    return _("The request is too large: at most %(size)s.") % {
        "size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    }


class ReadOnly(exceptions.APIException):
    """A write on a mirror (read-only mode): 503 with Retry-After."""

    status_code = 503
    default_code = "read_only"

    def __init__(self) -> None:
        super().__init__(str(read_only.MESSAGE))
        self.wait = settings.READ_ONLY_RETRY_AFTER


class ExceptionHandler(StandardHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if read_only.refusable(exc):  # a write PostgreSQL refused on a mirror
            return ReadOnly()
        if isinstance(exc, PostingRateLimited):  # a ValidationError, but the answer is 429 with Retry-After
            throttled = exceptions.Throttled(wait=exc.wait)
            throttled.detail = exceptions.ErrorDetail(exc.messages[0], code=throttled.default_code)
            return throttled
        if isinstance(exc, RequestDataTooBig):
            return PayloadTooLarge(too_large_message())
        if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
            return exceptions.ParseError(_("Too many fields in the request."))
        if (
            isinstance(exc, ValidationError)
            and not hasattr(exc, "error_dict")
            and exc.error_list[0].code in CONFLICT_CODES
        ):
            return Conflict(exc.messages[0], code=exc.error_list[0].code)
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

    def report_exception(self, exc: exceptions.APIException, response: Response) -> None:
        if not isinstance(exc, ReadOnly):  # an expected answer on a mirror, not a server error
            super().report_exception(exc, response)


def _error(kind: str, code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"type": kind, "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status
    )


# Django's own error views, in the API's shape under /api/ (a URL that matches no route, a request Django
# refuses before any view runs, a crash); the site's pages keep the usual ones.
def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _error("client_error", "not_found", "Not found.", 404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):  # a form or body over DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.path.startswith("/api/"):
            return _error("client_error", "too_large", too_large_message(), 413)
        return HttpResponse(f"<h1>413</h1><p>{escape(too_large_message())}</p>", status=413)
    if request.path.startswith("/api/"):
        return _error("client_error", "bad_request", "Bad request.", 400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if read_only.refusable(sys.exc_info()[1]):  # a write refused on a mirror, outside any view
        return read_only.refusal(request)
    if request.path.startswith("/api/"):
        return _error("server_error", "error", "Server Error (500)", 500)
    return defaults.server_error(request)
