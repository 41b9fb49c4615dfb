"""Personal API tokens (django-rest-knox), with guessing throttled per client address."""

from typing import TYPE_CHECKING, cast

from drf_spectacular.authentication import SessionScheme as DRFSessionScheme
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication as DRFSessionAuthentication
from rest_framework.throttling import AnonRateThrottle

if TYPE_CHECKING:  # for annotations only: DRF imports this module while rest_framework.views loads
    from rest_framework.request import Request
    from rest_framework.views import APIView

    from marketplace.models import ApiToken, User


class FailedTokenThrottle(AnonRateThrottle):
    """Counts a failed token in the anonymous rate of its client address (the same bucket as anonymous
    requests). The usual throttles run only after authentication, so a wrong token would never be counted."""

    def allow_request(self, request: "Request", view: "APIView | None") -> bool:
        """DRF's check, here during authentication (before any view): it hands the view only to
        `get_cache_key` below, which does not read it."""
        return super().allow_request(request, cast("APIView", view))

    def get_cache_key(self, request: "Request", view: "APIView") -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _second_factor_checked(user: "User") -> None:
    """A staff account without its second factor reaches no API call, as it reaches no staff page."""
    from marketplace import permissions  # here: DRF imports this module before the apps are ready

    if permissions.lacks_second_factor(user):
        raise exceptions.PermissionDenied(permissions.SECOND_FACTOR_FIRST, code="second_factor_required")


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request: "Request") -> "tuple[User, ApiToken] | None":
        try:
            authenticated = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle = FailedTokenThrottle()
            if not throttle.allow_request(request, None):
                raise exceptions.Throttled(throttle.wait()) from None
            raise
        if authenticated is not None:
            _second_factor_checked(authenticated[0])
        return authenticated


class SessionAuthentication(DRFSessionAuthentication):
    def authenticate(self, request: "Request") -> "tuple[User, None] | None":
        authenticated = super().authenticate(request)
        if authenticated is not None:
            _second_factor_checked(authenticated[0])
        return authenticated


class SessionScheme(DRFSessionScheme):
    """The OpenAPI description of a signed-in browser's session: drf-spectacular's, for the class above."""

    target_class = SessionAuthentication  # type: ignore[assignment]


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI description of these tokens: knox's, unchanged."""

    # a class or its dotted path (mypy infers `str` from knox's scheme, which names its class by path)
    target_class = TokenAuthentication  # type: ignore[assignment]
