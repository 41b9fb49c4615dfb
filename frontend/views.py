"""Server-rendered pages. Views read through selectors, write through services, and stay thin."""

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any, Concatenate, ParamSpec, cast

from allauth.account import forms as allauth_forms
from allauth.account import views as allauth_views
from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from config.public_cache import public_page
from marketplace import lifecycle, permissions, selectors, services
from marketplace.models import (
    Language,
    Need,
    Offer,
    Organization,
    Party,
    PostingStatus,
    Region,
    User,
    content_language,
)
from matching import permissions as match_permissions
from matching import selectors as matching_selectors

from . import forms
from .accounts import public_name_url

PAGE_SIZE = 20

_P = ParamSpec("_P")


class HtmxHttpRequest(HttpRequest):
    """A page's request, with what django-htmx's middleware adds: `htmx` (true for a request from HTMX)."""

    htmx: HtmxDetails


class SignedInRequest(HtmxHttpRequest):
    """The request of a page behind `login_required` (or the decorators below): its user is signed in."""

    user: User


def _kind_or_404(kind: str) -> type[Need] | type[Offer]:
    if kind not in selectors.POSTING_MODELS:
        raise Http404
    return selectors.POSTING_MODELS[kind]


def _secretariat_only(user: User | AnonymousUser) -> None:
    if not permissions.is_secretariat(user):
        raise PermissionDenied


def public_name_required(
    view: Callable[Concatenate[SignedInRequest, _P], HttpResponse],
) -> Callable[Concatenate[SignedInRequest, _P], HttpResponse]:
    """Sign-in first, then the person's public name (the services refuse to post, express interest or mentor
    without one): ask for it, and come back here (to the page the form was on, after a POST)."""

    @login_required
    @wraps(view)
    def wrapped(request: SignedInRequest, *args: _P.args, **kwargs: _P.kwargs) -> HttpResponse:
        if permissions.has_public_name(request.user):
            return view(request, *args, **kwargs)
        back = request.get_full_path() if request.method == "GET" else request.META.get("HTTP_REFERER", "")
        return redirect(public_name_url(safe_next(request, back, reverse("my_postings"))))

    return wrapped


def safe_next(request: HttpRequest, url: str | None, fallback: str) -> str:
    """Where to go next: `url` when it is an address of this site, else `fallback` (never another site)."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback


def secretariat_required(
    view: Callable[Concatenate[SignedInRequest, _P], HttpResponse],
) -> Callable[Concatenate[SignedInRequest, _P], HttpResponse]:
    """Sign-in first, then 403 for anyone who is not secretariat staff."""

    @login_required
    @wraps(view)
    def wrapped(request: SignedInRequest, *args: _P.args, **kwargs: _P.kwargs) -> HttpResponse:
        _secretariat_only(request.user)
        return view(request, *args, **kwargs)

    return wrapped


@public_page
def home(request: HttpRequest) -> HttpResponse:
    latest = {
        kind: selectors.as_cards(selectors.published_postings(model=model)).order_by("-published_at")[:8]
        for kind, model in selectors.POSTING_MODELS.items()
    }
    counts = {
        kind: selectors.published_postings(model=model).count()
        for kind, model in selectors.POSTING_MODELS.items()
    }
    return render(request, "frontend/home.html", {"latest": latest, "counts": counts})


@public_page
def posting_list(request: HtmxHttpRequest, kind: str) -> HttpResponse:
    model = _kind_or_404(kind)
    params = request.GET
    filters = selectors.PostingFilters(  # without NUL characters, which PostgreSQL refuses in text
        **{
            name: params.get(name, "").replace("\x00", "").strip()[:200]
            for name in selectors.PostingFilters.__dataclass_fields__
        }
    )
    by_meaning = bool(filters.q and params.get("by_meaning"))
    throttled = by_meaning and not MeaningSearchThrottle().allow_request(request, None)
    if throttled:  # the same search by its words instead, and the page says why
        by_meaning = False
    more = bool(params.get("more"))  # by meaning: the farther results too, after the close ones
    meaning = None
    if by_meaning:  # the words' meaning, in any language, instead of the words themselves
        meaning = matching_selectors.closest_in_meaning(
            selectors.published_postings(model=model, filters=replace(filters, q="")),
            filters.q,
            limit=settings.API_SEMANTIC_SEARCH_LIMIT,
            more=more,
        )
        postings = meaning.postings
    else:
        postings = selectors.published_postings(model=model, filters=filters)
    page = Paginator(selectors.as_cards(postings), PAGE_SIZE).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    close_only = query.copy()  # plain links between the close results and all of them (no JavaScript)
    close_only.pop("more", None)
    with_more = close_only.copy()
    with_more["more"] = "1"
    # the filters' choices (cached: alike for every reader of a language); HTMX swaps in the results only
    choices = {} if request.htmx else selectors.filter_choices()
    return render(
        request,
        # HTMX swaps the results in place; without JavaScript the form reloads the whole page
        "frontend/_posting_results.html" if request.htmx else "frontend/posting_list.html",
        {
            "kind": kind,
            "page": page,
            "filters": filters,
            "by_meaning": by_meaning,
            "meaning": meaning,
            "more": more,
            "show_more": "?" + with_more.urlencode(),
            "close_only": "?" + close_only.urlencode(),
            "query": query.urlencode() + "&" if query else "",
            "vocabulary": choices,
            "regions": Region.choices,
            "parties": choices.get("parties", []),
            "text_languages": Language.choices,
            "throttled": throttled,
        },
        status=429 if throttled and not request.htmx else 200,  # htmx swaps in 2xx answers only
    )


@public_page
def posting_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    posting = selectors.access_posting(user=request.user, kind=kind, pk=pk)
    is_owner = permissions.is_posting_owner(request.user, posting)
    return render(
        request,
        "frontend/posting_detail.html",
        {
            "kind": kind,
            "posting": posting,
            "is_owner": is_owner,
            "can_edit": is_owner and posting.status in lifecycle.EDITABLE_STATUSES,
            "show_contact": match_permissions.can_view_contact(request.user, posting),
            "moderation_form": forms.ModerationForm() if permissions.is_secretariat(request.user) else None,
            "close_form": forms.CloseForm(),
            "matches": matching_selectors.suggestions_for_reader(posting, user=request.user),
            "interest_form": _interest_form(request.user, posting, is_owner),
            # published, but the worker has not matched it since it was saved
            "matching_pending": posting.status == PostingStatus.PUBLISHED
            and bool(matching_selectors.pending_match_ids(kind, among=[posting.pk])),
        },
    )


def _interest_form(
    user: User | AnonymousUser, posting: Need | Offer, is_owner: bool
) -> forms.InterestForm | None:
    """Offer to express interest with one of the visitor's own published postings of the other kind."""
    if is_owner or not user.is_authenticated or posting.status != PostingStatus.PUBLISHED:
        return None
    own = selectors.postings_to_answer_with(user=user, posting=posting)
    return forms.InterestForm(own_postings=own) if own.exists() else None


class MeaningSearchThrottle(SimpleRateThrottle):
    """Searches by meaning run the model: PAGE_SEARCH_RATE per client address, read as the API reads it
    (behind TRUSTED_PROXY_COUNT proxies, the address they append)."""

    scope = "page_search_by_meaning"

    def allow_request(self, request: HttpRequest | Request, view: APIView | None) -> bool:
        """DRF's check, here for a page (a Django request, no DRF view): it reads only the request's META
        (`get_ident`), which both kinds of request have, and hands the view to `get_cache_key` below, which
        does not read it."""
        return super().allow_request(cast(Request, request), cast(APIView, view))

    def get_rate(self) -> str | None:
        return settings.PAGE_SEARCH_RATE or None

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def poster_arguments(kind: str, choice: str) -> dict[str, Any]:
    """The service's arguments for a poster picked in a form: "expert" (offers), "party:CODE", "org:ID"."""
    if kind == "offer" and choice == "expert":
        return {"as_expert": True}
    prefix, _sep, value = choice.partition(":")
    if prefix == "party":
        return {"party": get_object_or_404(Party, code=value)}
    if prefix == "org" and value.isdigit():
        return {"organization": get_object_or_404(Organization, pk=int(value))}
    raise Http404


@public_name_required
def posting_create(request: SignedInRequest, kind: str) -> HttpResponse:
    _kind_or_404(kind)
    form_class = forms.POSTING_FORMS[kind]
    choices = (forms.need_poster_choices if kind == "need" else forms.offer_poster_choices)(request.user)
    if not choices:
        waiting = selectors.organizations_of(user=request.user)
        waiting = waiting.exclude(permissions.approved_organization_filter())
        return render(
            request, "frontend/no_role.html", {"kind": kind, "waiting_organizations": waiting}, status=403
        )
    initial = {
        "language": content_language(request.LANGUAGE_CODE),
        "contact_name": request.user.name,
        "contact_email": request.user.email,
    }
    form = form_class(request.POST or None, poster_choices=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        create = services.need_create if kind == "need" else services.offer_create
        try:
            posting = create(
                user=request.user,
                data=form.data_for_service(),
                submit="submit" in request.POST,
                **poster_arguments(kind, form.cleaned_data["poster"]),
            )
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            if posting.status == PostingStatus.SUBMITTED:
                messages.success(request, _("Sent to the secretariat for validation."))
            else:
                messages.success(request, _("Saved as a draft."))
            return redirect("posting_detail", kind=kind, pk=posting.pk)
    return render(request, "frontend/posting_form.html", {"kind": kind, "form": form})


@login_required
@require_POST
def posting_check(request: SignedInRequest, kind: str) -> HttpResponse:
    """Inline validation for the posting form (HTMX, on each change): the form's own checks on what has been
    filled in so far, each field's message swapped into place; empty fields wait for the real submit.
    Nothing is saved."""
    _kind_or_404(kind)
    form = forms.POSTING_FORMS[kind](request.POST)
    form.is_valid()
    filled = {name for name in form.fields if any(value.strip() for value in request.POST.getlist(name))}
    return render(
        request,
        "frontend/_field_errors.html",
        {"fields": [form[name] for name in form.fields], "filled": filled},
    )


@login_required
def posting_edit(request: SignedInRequest, kind: str, pk: int) -> HttpResponse:
    posting = selectors.access_posting(user=request.user, kind=kind, pk=pk, for_edit=True)
    if posting.status not in lifecycle.EDITABLE_STATUSES:
        messages.error(
            request, _("This posting is waiting for the secretariat's decision: it cannot be edited now.")
        )
        return redirect("posting_detail", kind=kind, pk=pk)
    form_class = forms.POSTING_FORMS[kind]
    form = form_class(request.POST or None, initial=form_class.initial_from(posting), posting=posting)
    if request.method == "POST" and form.is_valid():
        try:
            posting = services.posting_update(
                user=request.user, posting=posting, data=form.data_for_service()
            )
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            if posting.status == PostingStatus.SUBMITTED:
                messages.success(request, _("Changes saved and sent to the secretariat for validation."))
            else:
                messages.success(request, _("Changes saved."))
            return redirect("posting_detail", kind=kind, pk=posting.pk)
    return render(
        request,
        "frontend/posting_form.html",
        {"kind": kind, "form": form, "posting": posting},
    )


@login_required
@require_POST
def posting_submit(request: SignedInRequest, kind: str, pk: int) -> HttpResponse:
    posting = selectors.access_posting(user=request.user, kind=kind, pk=pk, for_edit=True)
    try:
        services.posting_submit(user=request.user, posting=posting)
        messages.success(request, _("Sent to the secretariat for validation."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("posting_detail", kind=kind, pk=pk)


@login_required
@require_POST
def posting_close(request: SignedInRequest, kind: str, pk: int) -> HttpResponse:
    posting = selectors.access_posting(user=request.user, kind=kind, pk=pk, for_edit=True)
    form = forms.CloseForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose fulfilled or withdrawn."))
        services.posting_close(user=request.user, posting=posting, reason=form.cleaned_data["reason"])
        messages.success(request, _("The posting is closed."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("posting_detail", kind=kind, pk=pk)


@login_required
def my_postings(request: SignedInRequest) -> HttpResponse:
    return render(
        request,
        "frontend/my_postings.html",
        {
            "needs": selectors.as_cards(selectors.postings_owned_by(user=request.user, model=Need)),
            "offers": selectors.as_cards(selectors.postings_owned_by(user=request.user, model=Offer)),
            "focal_point_parties": selectors.focal_point_parties(user=request.user),
            "organizations": selectors.organizations_of(user=request.user),
            "requests": selectors.focal_point_requests_of(user=request.user),
            "invitations": selectors.open_invitations_for(user=request.user),
        },
    )


# The secretariat's pages (the validation queue and its decisions) are in workbench_views.py.


# --- Roles -------------------------------------------------------------------------------------------


@login_required
def focal_point_request(request: SignedInRequest) -> HttpResponse:
    form = forms.FocalPointRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.focal_point_request_create(
                user=request.user,
                party=get_object_or_404(Party, code=form.cleaned_data["party"]),
                justification=form.cleaned_data["justification"],
            )
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            messages.success(request, _("Your request has been sent to the secretariat."))
            return redirect("my_postings")
    return render(
        request, "frontend/simple_form.html", {"form": form, "title": _("Become a national focal point")}
    )


@login_required
def public_name(request: SignedInRequest) -> HttpResponse:
    """The name others see; asked at sign-in of accounts that have none, and before posting."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"), reverse("my_postings"))
    form = forms.PublicNameForm(request.POST or None, initial={"name": request.user.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_public_name_set(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            messages.success(request, _("Your name is saved."))
            return redirect(next_url)
    return render(
        request,
        "frontend/simple_form.html",
        {"form": form, "title": _("Your name"), "next": next_url},
    )


@login_required
def expert_profile(request: SignedInRequest) -> HttpResponse:
    instance = getattr(request.user, "expert_profile", None)
    form = forms.ExpertProfileForm(
        request.POST or None, instance=instance, initial={"name": request.user.name}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.expert_profile_save(user=request.user, data=form.cleaned_data)
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            messages.success(request, _("Your expert profile is saved."))
            return redirect("my_postings")
    return render(request, "frontend/simple_form.html", {"form": form, "title": _("Expert profile")})


@login_required
def organization_create(request: SignedInRequest) -> HttpResponse:
    form = forms.OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(user=request.user, data=form.cleaned_data)
        except ValidationError as error:
            forms.apply_service_errors(form, error)
        else:
            return redirect("organization_detail", pk=organization.pk)
    return render(
        request, "frontend/simple_form.html", {"form": form, "title": _("Register an organization")}
    )


@login_required
def organization_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    organization = get_object_or_404(selectors.organizations_of(user=request.user), pk=pk)
    is_admin = permissions.is_organization_admin(request.user, organization)
    form = forms.InvitationForm(request.POST or None)
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.organization_invite(
                    user=request.user, organization=organization, email=form.cleaned_data["email"]
                )
            except ValidationError as error:
                forms.apply_service_errors(form, error)
            else:
                messages.success(request, _("Invitation sent."))
                return redirect("organization_detail", pk=pk)
    return render(
        request,
        "frontend/organization_detail.html",
        {
            "organization": organization,
            "is_admin": is_admin,
            "is_approved": permissions.is_approved_organization(organization),
            "form": form,
            "members": organization.memberships.select_related("user"),
        },
    )


@login_required
@require_POST
def invitation_accept(request: SignedInRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(selectors.open_invitations_for(user=request.user), pk=pk)
    services.organization_invitation_accept(user=request.user, invitation=invitation)
    messages.success(request, _("You are now a member of %(org)s.") % {"org": invitation.organization.name})
    return redirect("my_postings")


# --- Sign-in ----------------------------------------------------------------------------------------


class LoginForm(allauth_forms.LoginForm):
    """allauth's sign-in form in the site's words; the labels above the fields say it all, without
    placeholders that repeat them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("E-mail address")
        if "remember" in self.fields:
            self.fields["remember"].label = _("Keep me signed in on this device")
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)


class LoginView(allauth_views.LoginView):
    """allauth's sign-in page, with the site's own labels (accounts.LoginForm); once an account's failed
    attempts reach ACCOUNT_RATE_LIMITS["login_failed"], the refusal (allauth's message on the form) is a 429,
    so that scripts see it as one."""

    form_class = LoginForm

    def form_invalid(self, form: django_forms.Form) -> HttpResponse:
        response = super().form_invalid(form)
        if any(error.code == "too_many_login_attempts" for error in form.non_field_errors().as_data()):
            response.status_code = 429
        return response
