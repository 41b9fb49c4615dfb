"""Anonymous answers (the public pages, the open API) kept in the cache for PUBLIC_CACHE_SECONDS and answered
304 Not Modified while the reader's copy is current.

Both are keyed by the catalogue's generation (`marketplace.catalogue_cache`), which the posting services
change on every posting change, and by what else the answer depends on: language, address (with host and
query), HTMX or not, Accept. Nothing is cached nor answered 304 for a signed-in person or a program sending
credentials; nor an answer that sets a cookie of its own, changes the session, shows a message or carries a
CSP nonce.

Pages carry a CSRF token (the language switcher's form): a masked copy of the reader's own secret, never to
be shown to anyone else. A page is stored with its tokens replaced by a placeholder and each reader gets a
token of their own secret in its place; the page's ETag includes (a hash of) the secret, so that a 304 never
confirms a copy whose token no longer matches the reader's cookie.
"""

import hashlib
import re
import zlib
from functools import wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language
from rest_framework.response import Response

from marketplace.catalogue_cache import catalogue_generation

try:  # recognises the tokens of the reader's secret in a page, whatever the markup around them
    # A private helper of Django's, absent from the stubs.
    from django.middleware.csrf import _unmask_cipher_token  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover: then pages that may hold a token are not stored
    _unmask_cipher_token = None

TOKEN_PLACEHOLDER = b"\x00csrf-token\x00"  # NUL never reaches a page (services and PostgreSQL refuse it)
_TOKEN_SHAPE = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")


def is_anonymous(request) -> bool:
    """No signed-in session and no credentials sent along (a token: the API's business, never cached)."""
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated) and "HTTP_AUTHORIZATION" not in request.META


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _not_modified(request, etag: str) -> bool:
    """If-None-Match names this ETag (weak comparison, as RFC 9110 asks for GET)."""
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == wanted for tag in parse_etags(header))


def _marked(response, etag: str, cache_control: dict):
    response["ETag"] = etag
    patch_cache_control(response, **cache_control)
    return response


# --- Pages -------------------------------------------------------------------------------------------------


def _page_etag(variant: list[str], request) -> str:
    # the CSRF secret the page's tokens are made from (none: the page has none, or the reader no cookie)
    return f'W/"{_digest(*variant, request.META.get("CSRF_COOKIE", ""))}"'


def _tokens_out(content: bytes, request) -> bytes | None:
    """The page with each CSRF token of the reader's secret replaced by the placeholder; None when that
    cannot be done safely (then the page is not stored)."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret or not _TOKEN_SHAPE.search(content):
        return content
    if _unmask_cipher_token is None:
        return None

    def placeholder(match: re.Match) -> bytes:
        return TOKEN_PLACEHOLDER if _unmask_cipher_token(match.group().decode()) == secret else match.group()

    return _TOKEN_SHAPE.sub(placeholder, content)


def _storable(request, response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and getattr(response, "is_rendered", True)  # a TemplateResponse is rendered later: left alone
        and not response.cookies  # the view's own; the CSRF cookie is set later, by its middleware
        and not response.has_header("Cache-Control")
        and not isinstance(getattr(request, "_csp_nonce", None), str)  # a nonce is per answer
        and not getattr(getattr(request, "session", None), "modified", False)
        and is_anonymous(request)
    )


def public_page(view):
    """For a page that anonymous readers all see alike (given the language and the address): GET answered
    from the cache, or 304 when the reader's copy is current; anything else goes to the view as usual."""
    page_cache_control = {"private": True, "no_cache": True}  # a copy per browser, checked on each use

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        seconds = settings.PUBLIC_CACHE_SECONDS
        if (
            not seconds
            or request.method not in ("GET", "HEAD")
            or not is_anonymous(request)
            or request.GET.get("by_meaning")  # the model's searches have their own limit and cache
            or len(get_messages(request))  # shown once, on whichever page comes next
        ):
            return view(request, *args, **kwargs)
        variant = [
            catalogue_generation(),
            get_language() or "",
            request.build_absolute_uri(),
            "htmx" if request.headers.get("HX-Request") else "page",
        ]
        if not request.META.get("CSRF_COOKIE_NEEDS_UPDATE") and _not_modified(
            request, etag := _page_etag(variant, request)
        ):
            return _marked(HttpResponseNotModified(), etag, page_cache_control)
        key = "public-page:" + _digest(*variant)
        stored = cache.get(key)
        if stored is not None:
            content_type, compressed = stored
            content = zlib.decompress(compressed)
            if TOKEN_PLACEHOLDER in content:
                content = content.replace(TOKEN_PLACEHOLDER, get_token(request).encode())
            response = HttpResponse(content, content_type=content_type)
        else:
            response = view(request, *args, **kwargs)
            if not _storable(request, response):
                return response
            content = _tokens_out(response.content, request)
            if content is None:
                return response
            cache.set(key, (response["Content-Type"], zlib.compress(content)), seconds)
        patch_vary_headers(response, ["HX-Request"])
        return _marked(response, _page_etag(variant, request), page_cache_control)

    return wrapped


# --- API ---------------------------------------------------------------------------------------------------


def public_api(handler):
    """For a DRF handler (list, retrieve, get) whose answer to anonymous callers depends only on the
    address, the language and Accept: after DRF's authentication, permissions and throttles, the answer's
    data from the cache, or 304 when the caller's copy is current."""
    cache_control = {"no_cache": True}  # any cache may keep it, checking with us on each use

    @wraps(handler)
    def wrapped(view, request, *args, **kwargs):
        seconds = settings.PUBLIC_CACHE_SECONDS
        if (
            not seconds
            or request.method not in ("GET", "HEAD")
            or request.user.is_authenticated
            or not is_anonymous(request._request)  # open data skips DRF's authentication: ask Django's
        ):
            return handler(view, request, *args, **kwargs)
        variant = [
            catalogue_generation(),
            get_language() or "",
            request.build_absolute_uri(),
            request.META.get("HTTP_ACCEPT", ""),
        ]
        etag = f'W/"{_digest(*variant)}"'
        if _not_modified(request, etag):
            return _marked(HttpResponseNotModified(), etag, cache_control)
        key = "public-api:" + _digest(*variant)
        stored = cache.get(key)
        if stored is not None:
            response = Response(stored)
        else:
            response = handler(view, request, *args, **kwargs)
            if not (isinstance(response, Response) and response.status_code == 200 and not response.cookies):
                return response
            cache.set(key, response.data, seconds)
        return _marked(response, etag, cache_control)

    return wrapped


# Mixin for DRF list and detail views: `public_api` on `list` and `retrieve`. (No docstring: the OpenAPI
# schema would take it for the description of the views that have none.)
class PublicAnswersCached:
    @public_api
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @public_api
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)
