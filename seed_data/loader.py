"""Load the seed files into the database. Every step is idempotent: a row is written only when it is
missing or differs from the file, so a second run reports everything unchanged."""

import datetime
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import TypedDict

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from marketplace import services
from marketplace.catalogue_cache import catalogue_changed
from marketplace.models import (
    LABEL_LANGUAGES,
    ClosedReason,
    FocalPointAssignment,
    FocalPointRequest,
    Need,
    Offer,
    Organization,
    OrganizationMembership,
    Party,
    PostingStatus,
    Subregion,
    Term,
    User,
    VocabularyRelease,
)
from matching import services as matching_services
from matching.models import Match, MatchStatus
from mentoring import selectors as mentoring_selectors
from mentoring import services as mentoring_services

SEED_DIR = Path(__file__).resolve().parent
DEMO_PASSWORD = "demo-chm-2026"


def _read(name: str) -> dict:
    return json.loads((SEED_DIR / name).read_text(encoding="utf-8"))


def _upsert(model, counts: Counter, lookup: dict, values: dict):
    """Create the row, or update only the fields that differ; count what happened."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        counts["created"] += 1
        return model.objects.create(**lookup, **values)
    changed = [field for field, value in values.items() if getattr(instance, field) != value]
    if changed:
        for field in changed:
            setattr(instance, field, values[field])
        instance.save(update_fields=changed)
        counts["updated"] += 1
    else:
        counts["unchanged"] += 1
    return instance


REQUIRED = ("en", "fr", "es")


def _labels(labels: dict, prefix: str = "label") -> dict:
    """The six UN languages' columns; English, French and Spanish are required, Arabic, Chinese and Russian
    may be missing from a file (blank: the English label is shown)."""
    return {
        f"{prefix}_{language}": labels[language] if language in REQUIRED else labels.get(language, "")
        for language in LABEL_LANGUAGES
    }


@transaction.atomic
def load_parties() -> Counter:
    data = _read("parties.json")
    counts: Counter = Counter()
    subregions = {
        item["code"]: _upsert(Subregion, counts, {"code": item["code"]}, _labels(item["labels"]))
        for item in data["subregions"]
    }
    for item in data["parties"]:
        _upsert(
            Party,
            counts,
            {"code": item["code"]},
            {
                "iso3": item["iso3"],
                **_labels(item["names"], prefix="name"),
                "region": item["region"],
                "subregion": subregions[item["subregion"]],
            },
        )
    return counts


@transaction.atomic
def load_vocabulary() -> Counter:
    """Load a vocabulary release once; terms missing from a newer release are retired, never deleted."""
    data = _read("vocabulary.json")
    counts: Counter = Counter()
    if VocabularyRelease.objects.filter(version=data["version"]).exists():
        counts["unchanged"] = len(data["terms"])
        return counts
    seen = []
    for position, item in enumerate(data["terms"]):
        term = _upsert(
            Term,
            counts,
            {"scheme": item["scheme"], "code": item["code"]},
            {
                **_labels(item["labels"]),
                "group": item.get("group", ""),
                "position": position,
                "is_active": True,
            },
        )
        seen.append(term.pk)
    counts["retired"] = Term.objects.exclude(pk__in=seen).filter(is_active=True).update(is_active=False)
    VocabularyRelease.objects.create(version=data["version"], term_count=len(seen))
    catalogue_changed()  # the public pages name the terms (the filters' choices follow the release)
    return counts


@transaction.atomic
def load_demo_accounts() -> tuple[Counter, list[tuple[str, str]]]:
    """Demo organizations and users for every role. Existing users are left as they are."""
    data = _read("demo_accounts.json")
    counts: Counter = Counter()
    organizations = {}
    for item in data["organizations"]:
        country = Party.objects.get(code=item["country"]) if item.get("country") else None
        organization = organizations[item["slug"]] = _upsert(
            Organization,
            counts,
            {"name": item["name"]},
            {
                "acronym": item.get("acronym", ""),
                "type": item["type"],
                "country": country,
                "website": item.get("website", ""),
                "description": item.get("description", ""),
            },
        )
        if organization.approved_at is None and organization.rejected_at is None:  # demo ones are vetted
            organization.approved_at = timezone.now()
            organization.save(update_fields=["approved_at"])
    logins = []
    password_hash = make_password(DEMO_PASSWORD)  # hashing is deliberately slow: once for every demo user
    for item in data["users"]:
        user = User.objects.filter(email=item["email"]).first()
        if user is None:
            user = User.objects.create(
                email=item["email"],
                password=password_hash,
                name=item["name"],
                preferred_language=item.get("language", "en"),
                is_secretariat=item.get("secretariat", False),
                is_staff=item.get("secretariat", False),
            )
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            counts["users created"] += 1
            for code in item.get("focal_point_for", []):
                FocalPointAssignment.objects.create(user=user, party=Party.objects.get(code=code))
            for membership in item.get("organizations", []):
                OrganizationMembership.objects.create(
                    user=user,
                    organization=organizations[membership["slug"]],
                    is_admin=membership.get("admin", False),
                )
            if item.get("expert"):
                services.expert_profile_save(user=user, data=item["expert"])
            request = item.get("pending_focal_point_request")
            if request:
                FocalPointRequest.objects.create(
                    user=user,
                    party=Party.objects.get(code=request["party"]),
                    justification=request["justification"],
                )
        else:
            counts["users unchanged"] += 1
        logins.append((user.email, _role_summary(item)))
    return counts, logins


def _role_summary(item: dict) -> str:
    roles = []
    if item.get("secretariat"):
        roles.append("secretariat")
    if item.get("focal_point_for"):
        roles.append("focal point for " + ", ".join(item["focal_point_for"]))
    if item.get("organizations"):
        roles.append("member of " + ", ".join(m["slug"] for m in item["organizations"]))
    if item.get("expert"):
        roles.append("expert")
    if item.get("pending_focal_point_request"):
        roles.append("no role yet (focal point request pending)")
    return "; ".join(roles) or "no role"


def _days(today: datetime.date, offset) -> datetime.date | None:
    return None if offset is None else today + datetime.timedelta(days=offset)


def _posting_data(item: dict, today: datetime.date) -> dict:
    data = {
        field: item[field]
        for field in (
            "title",
            "description",
            "language",
            "subjects",
            "gbf_targets",
            "support_types",
            "countries",
            "regions",
            "contact_name",
            "contact_email",
        )
        if field in item
    }
    data["expires_on"] = _days(today, item["expires_in_days"])
    if item["kind"] == "need":
        data.update(
            beneficiaries=item.get("beneficiaries", ""),
            budget_note=item.get("budget_note", ""),
            timeframe_start=_days(today, item.get("timeframe_start_days")),
            timeframe_end=_days(today, item.get("timeframe_end_days")),
        )
        return data
    training = item.get("training") or {}
    technology = item.get("technology") or {}
    funding = item.get("funding") or {}
    data.update(
        kind=item["offer_kind"],
        global_coverage=item.get("global_coverage", False),
        delivery_languages=item.get("delivery_languages", []),
        capacity=item.get("capacity", 1),
        starts_on=_days(today, training.get("starts_in_days")),
        ends_on=_days(today, training.get("ends_in_days")),
        delivery_format=training.get("format", ""),
        seats=training.get("seats"),
        readiness_level=technology.get("readiness"),
        licensing_terms=technology.get("licensing", ""),
        eligibility=funding.get("eligibility", ""),
        deadline=_days(today, funding.get("deadline_in_days")),
    )
    return data


@transaction.atomic
def load_demo_postings() -> Counter:
    """Demo needs and offers, taken through the real services to the state the file gives."""
    data = _read("demo_postings.json")
    counts: Counter = Counter()
    today = timezone.localdate()
    secretariat = User.objects.filter(is_secretariat=True).order_by("pk").first()
    organizations = {
        item["slug"]: Organization.objects.get(name=item["name"])
        for item in _read("demo_accounts.json")["organizations"]
    }
    existing = set(Need.objects.filter(source_ref__isnull=False).values_list("source_ref", flat=True))
    existing |= set(Offer.objects.filter(source_ref__isnull=False).values_list("source_ref", flat=True))
    for item in data["postings"]:
        if item["ref"] in existing:
            counts["unchanged"] += 1
            continue
        user = User.objects.get(email=item["created_by"])
        organization = organizations[item["organization"]] if item.get("organization") else None
        posting: Need | Offer
        if item["kind"] == "need":
            party = Party.objects.get(code=item["party"]) if item.get("party") else None
            posting = services.need_create(
                user=user,
                party=party,
                organization=organization,
                data=_posting_data(item, today),
                source_ref=item["ref"],
            )
        else:
            posting = services.offer_create(
                user=user,
                as_expert=bool(item.get("expert")),
                organization=organization,
                data=_posting_data(item, today),
                source_ref=item["ref"],
            )
        status = item["status"]
        if status != PostingStatus.DRAFT:
            posting = services.posting_submit(user=user, posting=posting)
        if status in (PostingStatus.PUBLISHED, PostingStatus.CLOSED):
            assert secretariat is not None, "the demo accounts (with the secretariat) are loaded first"
            posting = services.posting_approve(user=secretariat, posting=posting)
        if status == PostingStatus.CLOSED:
            services.posting_close(
                user=user, posting=posting, reason=item.get("closed_reason") or ClosedReason.FULFILLED
            )
        _backdate(posting, item["ref"])
        counts["created"] += 1
    return counts


def _backdate(posting, ref: str) -> None:
    """Spread demo postings over the last four months (deterministically), as a live site would have them."""
    days_ago = int(hashlib.sha256(ref.encode()).hexdigest(), 16) % 120 + 5
    created = timezone.now() - datetime.timedelta(days=days_ago)
    history = {"created_at": created}
    if posting.submitted_at:
        history["submitted_at"] = created + datetime.timedelta(days=1)
    if posting.published_at:
        history["published_at"] = created + datetime.timedelta(days=3)
    type(posting).objects.filter(pk=posting.pk).update(**history)


def _advance(match, item: dict, secretariat) -> None:
    """Take a demo match from introduced to the state the file gives, through the real services."""
    need_user, offer_user = match.need.created_by, match.offer.created_by
    users = {"need": need_user, "offer": offer_user}
    messages = {"need": item.get("need_message", ""), "offer": item.get("offer_message", "")}
    target = item["to"]
    if target == "declined":
        side = item["by"]
        matching_services.match_decline(
            user=users[side], match=match, reason=item["reason"], message=messages[side]
        )
        return
    for side in item.get("accepted_by", ["need", "offer"] if target in ("in_progress", "completed") else []):
        match.refresh_from_db()
        if getattr(match, f"{side}_response") == "":
            matching_services.match_accept(user=users[side], match=match, message=messages[side])
    if target in ("in_progress", "completed"):
        matching_services.match_start(user=need_user, match=match)
    if target == "completed":
        for side, report in item["outcomes"].items():
            matching_services.match_report_outcome(user=users[side], match=match, **report)
        story = item["story"]
        matching_services.case_study_save(
            user=need_user, match=match, title=story["title"], story=story["text"], language=story["language"]
        )
        matching_services.case_study_consent(user=offer_user, match=match)
        if story.get("approved"):
            matching_services.case_study_approve(user=secretariat, match=match)


class _MentorIdentity(TypedDict, total=False):
    """Whom a demo mentor speaks for: `mentor_save`'s keyword arguments, one of them."""

    organization: Organization
    party: Party
    as_expert: bool


@transaction.atomic
def load_demo_activity() -> Counter:
    """What a live site would show: matches in several states (one completed, with its story) and a
    mentoring programme (mentors, requests, an active pairing, a draft cohort). Run once, after the demo
    postings have been matched."""
    data = _read("demo_activity.json")
    counts: Counter = Counter()
    secretariat = User.objects.filter(is_secretariat=True).order_by("pk").first()
    assert secretariat is not None, "the demo accounts (with the secretariat) are loaded first"
    needs = {n.source_ref: n for n in Need.objects.filter(source_ref__isnull=False)}
    offers = {o.source_ref: o for o in Offer.objects.filter(source_ref__isnull=False)}
    for item in data["matches"]:
        need, offer = needs[item["need"]], offers[item["offer"]]
        match = Match.objects.filter(need=need, offer=offer).first()
        if item["to"] == "requested" and (match is None or match.status == MatchStatus.SUGGESTED):
            matching_services.match_express_interest(
                user=offer.created_by, own=offer, other_posting=need, message=item.get("offer_message", "")
            )
        else:
            if match is None or match.status == MatchStatus.SUGGESTED:
                match = matching_services.match_create(user=secretariat, need=need, offer=offer)
            _advance(match, item, secretariat)
        counts[f"match {item['to']}"] += 1

    organizations = {item["slug"]: item["name"] for item in _read("demo_accounts.json")["organizations"]}
    mentors = {}
    for item in data["mentors"]:
        user = User.objects.get(email=item.get("user") or item.get("expert"))
        identity: _MentorIdentity
        if "organization" in item:
            identity = {"organization": Organization.objects.get(name=organizations[item["organization"]])}
        elif "party" in item:
            identity = {"party": Party.objects.get(code=item["party"])}
        else:
            identity = {"as_expert": True}
        fields = {
            k: item[k] for k in ("forms", "languages", "capacity", "description", "website") if k in item
        }
        mentor = mentoring_services.mentor_save(user=user, data=fields, **identity)
        mentors[item.get("organization") or item.get("party") or item["expert"]] = mentor
        counts["mentors"] += 1
    requests = {}
    for item in data["requests"]:
        requests[item["party"]] = mentoring_services.mentoring_request_create(
            user=User.objects.get(email=item["user"]),
            party=Party.objects.get(code=item["party"]),
            data={k: item[k] for k in ("forms", "languages", "goals")},
        )
        counts["mentoring requests"] += 1
    pairing_data = data["pairing"]
    pairing = mentoring_services.pairing_create(
        user=secretariat, request=requests[pairing_data["party"]], mentor=mentors[pairing_data["mentor"]]
    )
    mentor_user = mentoring_selectors.mentor_owners(pairing.mentor).order_by("pk").first()
    assert mentor_user is not None, "a mentor has people who answer for it"
    today = timezone.localdate()
    for title, days in pairing_data["milestones"]:
        mentoring_services.milestone_add(
            user=mentor_user, pairing=pairing, title=title, due_on=today + datetime.timedelta(days=days)
        )
    mentoring_services.check_in_add(
        user=requests[pairing_data["party"]].created_by, pairing=pairing, note=pairing_data["check_in"]
    )
    cohort = data["cohort"]
    mentoring_services.cohort_propose(
        user=secretariat, name=cohort["name"], requests=[requests[code] for code in cohort["parties"]]
    )
    counts["mentoring pairings"] += 1
    counts["draft cohorts"] += 1
    _backdate_suggestions()
    return counts


def _backdate_suggestions() -> None:
    """A suggestion waits from when the later of its two postings was published (the demo postings are
    backdated), as on a live site, rather than from the moment the demo was loaded."""
    waiting = Match.objects.filter(status=MatchStatus.SUGGESTED).select_related("need", "offer")
    for match in waiting:
        published = [p.published_at for p in (match.need, match.offer) if p.published_at]
        if published:
            Match.objects.filter(pk=match.pk).update(created_at=max(published))
