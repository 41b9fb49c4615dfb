"""The notification inbox, e-mail preferences, and the signed one-click unsubscribe page."""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace import selectors, services
from marketplace.models import User
from notifications import kinds, outbox
from notifications import selectors as notification_selectors

from . import forms
from .views import SignedInRequest


@login_required
def inbox(request: SignedInRequest) -> HttpResponse:
    notifications = notification_selectors.notifications_of(user=request.user)
    page = Paginator(notifications, 30).get_page(request.GET.get("page"))
    items = [(notification, outbox.render(notification)) for notification in page]
    return render(request, "frontend/inbox.html", {"page": page, "items": items})


@login_required
@require_POST
def inbox_mark_read(request: SignedInRequest) -> HttpResponse:
    outbox.notifications_mark_read(user=request.user)
    return redirect("inbox")


@login_required
def preferences(request: SignedInRequest) -> HttpResponse:
    current = notification_selectors.notification_preferences_of(user=request.user)
    form = forms.PreferencesForm(
        request.POST or None, current=current, language=request.user.preferred_language
    )
    if request.method == "POST" and form.is_valid():
        frequencies = dict(form.cleaned_data)
        language = frequencies.pop("preferred_language")
        try:
            with transaction.atomic():
                services.user_preferred_language_set(user=request.user, language=language)
                outbox.preferences_save(user=request.user, frequencies=frequencies)
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            messages.success(request, _("Your choices are saved."))
            return redirect("preferences")
    return render(request, "frontend/preferences.html", {"form": form})


@csrf_exempt  # the signed token is the credential; mail clients POST here without a session (RFC 8058)
@never_cache  # the link is a credential
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button; POST (the button, or a mail client's one-click request) unsubscribes."""
    try:
        target, kind = outbox.unsubscribe_target(token)
    except ValidationError as error:
        return render(request, "frontend/unsubscribe.html", {"error": error.messages[0]}, status=400)
    # the project's user model (AUTH_USER_MODEL): notifications know it as an AbstractBaseUser
    user = cast(User, target)
    context: dict[str, Any] = {
        "label": kinds.get(kind).label if kind else _("all e-mails"),
        "email": outbox.masked_address(user.email),  # whoever holds the link sees no full address
    }
    if request.method == "POST":
        outbox.unsubscribe(token=token)
        context["done"] = True
    return render(request, "frontend/unsubscribe.html", context)


@login_required
def api_tokens(request: SignedInRequest) -> HttpResponse:
    """Personal API tokens: create one (its secret shown this once), see them, revoke them."""
    form = forms.ApiTokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, secret = services.api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        except PermissionDenied as refused:  # a staff account without its second factor yet
            form.add_error(None, str(refused))
        else:
            form = forms.ApiTokenForm()
    return render(
        request,
        "frontend/api_tokens.html",
        {"form": form, "secret": secret, "tokens": selectors.api_tokens_of(user=request.user)},
    )


@login_required
@require_POST
def api_token_revoke(request: SignedInRequest, token_key: str) -> HttpResponse:
    token = selectors.access_api_token(user=request.user, token_key=token_key)
    services.api_token_revoke(user=request.user, token=token)
    messages.success(request, _("The token is revoked: programs using it are refused from now on."))
    return redirect("api_tokens")
