"""Cross-cutting HTTP rules."""

from django.utils.cache import add_never_cache_headers


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
