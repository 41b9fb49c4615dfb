"""django-allauth hooks: sign-up asks for the person's public name; a signed-in person who has none yet (an
account from before names were asked) is asked for it before going on; a new password revokes API tokens.
And the welcome page, where a new account lands once its e-mail address is confirmed
(ACCOUNT_SIGNUP_REDIRECT_URL): who does what here, and the next step for each role."""

from typing import Any
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, ngettext

from marketplace import permissions, selectors, services
from marketplace.models import User, content_language

from .forms import public_name_field


class SignupForm(forms.Form):
    """allauth builds its sign-up form on this one (ACCOUNT_SIGNUP_FORM_CLASS): the name comes first. This
    module must not import allauth's forms, which import this class while they load."""

    name = public_name_field()
    field_order = ["name"]

    def signup(self, request: HttpRequest, user: User) -> None:
        services.user_public_name_set(user=user, name=self.cleaned_data["name"])
        # e-mails in the language the person signed up in
        services.user_preferred_language_set(user=user, language=content_language(get_language()))


def public_name_url(next_url: str) -> str:
    return f"{reverse('public_name')}?{urlencode({'next': next_url})}"


class AccountAdapter(DefaultAccountAdapter):
    def set_password(self, user: User, password: str) -> None:
        """A password change or reset also revokes every API token, and says so."""
        super().set_password(user, password)
        revoked = services.api_tokens_revoke_all(user=user)
        if revoked and context.request is not None:
            messages.info(
                context.request,
                ngettext(
                    "Your new password also ends API access: %(count)d API token was revoked.",
                    "Your new password also ends API access: %(count)d API tokens were revoked.",
                    revoked,
                )
                % {"count": revoked},
            )

    def post_login(self, request: HttpRequest, user: User, **kwargs: Any) -> HttpResponse:
        response = super().post_login(request, user, **kwargs)
        if not permissions.has_public_name(user) and response.has_header("Location"):
            response["Location"] = public_name_url(response["Location"])
        return response


def welcome(request: HttpRequest) -> HttpResponse:
    """The roles in plain words and the next step for each; a signed-in person also sees which roles they
    hold or have asked for. Public: a visitor reads it before signing up."""
    user = request.user
    context: dict[str, Any] = {}
    if user.is_authenticated:
        context = {
            "focal_point_parties": selectors.focal_point_parties(user=user),
            "role_requests": selectors.focal_point_requests_of(user=user),
            "is_expert": permissions.is_expert(user),
            "organizations": selectors.organizations_of(user=user),
            "invitations": selectors.open_invitations_for(user=user),
        }
    return render(request, "frontend/welcome.html", context)
