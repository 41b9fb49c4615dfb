"""Actors for the API's permission matrices, and a way to see that a refused call changed nothing."""

import pytest
from django.forms.models import model_to_dict
from rest_framework.test import APIClient

from core.models import AuditEntry
from marketplace.models import Need, Offer
from matching.models import Match, MatchNote
from notifications.models import Notification
from tests.factories import OrganizationFactory, SecretariatFactory, UserFactory, member

ACTORS = ("anonymous", "other", "owner", "member", "secretariat")


class World:
    """An organization with two members: `owner` posts for it, `member` is a colleague. `other` is a
    signed-in stranger; `secretariat` is staff."""

    def __init__(self):
        self.organization = OrganizationFactory(name="Réseau Sahel Biodiversité")
        self.users = {
            "anonymous": None,
            "other": UserFactory(),
            "owner": member(self.organization),
            "member": member(self.organization),
            "secretariat": SecretariatFactory(),
        }

    def client(self, actor: str) -> APIClient:
        return client_for(self.users[actor])


def client_for(user) -> APIClient:
    """An API client signed in as ``user`` (None: anonymous)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def world(db):
    return World()


def state(*records) -> list:
    """Everything a call could change: the given rows (fields and relations) and the row counts of what
    the services write."""
    rows = []
    for record in records:
        record.refresh_from_db()
        rows.append(model_to_dict(record))
    counts = [model.objects.count() for model in (Need, Offer, Match, MatchNote, Notification, AuditEntry)]
    return [rows, counts]
