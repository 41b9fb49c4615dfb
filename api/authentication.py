"""Personal API tokens (django-rest-knox), with guessing throttled per client address."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.throttling import AnonRateThrottle


class FailedTokenThrottle(AnonRateThrottle):
    """Counts a failed token in the anonymous rate of its client address (the same bucket as anonymous
    requests). The usual throttles run only after authentication, so a wrong token would never be counted."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle = FailedTokenThrottle()
            if not throttle.allow_request(request, None):
                raise exceptions.Throttled(throttle.wait()) from None
            raise


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI description of these tokens: knox's, unchanged."""

    target_class = TokenAuthentication
