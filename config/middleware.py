"""Cross-cutting HTTP rules."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from marketplace import permissions

# What a staff account reaches only with a second factor: the workbench and the admin.
STAFF_AREAS = ("/secretariat/", "/admin/")


def private_answers_not_stored(get_response):
    """An answer to a signed-in person, or to a program sending a token, can carry contact details or a new
    token's secret: no browser or proxy cache may keep it. Public pages stay cacheable."""

    def middleware(request):
        response = get_response(request)
        user = getattr(request, "user", None)  # a token's user too: DRF sets it on the request
        if (user is not None and user.is_authenticated) or "HTTP_AUTHORIZATION" in request.META:
            add_never_cache_headers(response)
        return response

    return middleware


def staff_second_factor_required(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """A staff account (permissions.is_staff_account) without a second factor is sent to set one up (an
    authenticator app) before it reaches the workbench or the admin; once set up, allauth asks for a code
    at every sign-in."""

    def middleware(request: HttpRequest) -> HttpResponse:
        user = request.user
        if request.path.startswith(STAFF_AREAS) and permissions.lacks_second_factor(user):
            messages.info(
                request,
                _("Staff accounts sign in with a second factor: set up an authenticator app to continue."),
            )
            return redirect(f"{reverse('mfa_activate_totp')}?{urlencode({'next': request.get_full_path()})}")
        return get_response(request)

    return middleware
