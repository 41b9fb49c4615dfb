"""What the engine knows of a need or an offer, the text it embeds, and the labels it explains with."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

NEED, OFFER = "need", "offer"
SEED_DATA = Path(__file__).resolve().parents[2] / "seed_data"


@dataclass(frozen=True)
class Posting:
    """A need or an offer, reduced to what matching uses. Codes, not labels.

    ``country`` and ``region``: for a need, the requesting Party and its UN regional group; for an
    offer, where the provider is based. ``regions`` and ``countries``: the places a need benefits, or an
    offer's coverage (unless ``worldwide``). ``languages``: languages of work besides the posting's own.
    """

    id: str
    side: str
    title: str
    description: str = ""
    language: str | None = None
    subjects: frozenset[str] = frozenset()
    gbf_targets: frozenset[str] = frozenset()
    support_types: frozenset[str] = frozenset()
    country: str | None = None
    region: str | None = None
    languages: frozenset[str] = frozenset()
    kind: str | None = None
    worldwide: bool = False
    regions: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    starts_on: date | None = None  # a need's timeframe, an offer's course or availability dates
    ends_on: date | None = None
    deadline: date | None = None
    expires_on: date | None = None
    capacity: int | None = None  # how many needs an offer serves at once; None: no limit stated
    capacity_left: int | None = None
    is_open: bool = True  # published and not closed
    # other columns of an export named by the CLI's --attributes (name, value), see attributes.py
    attributes: tuple[tuple[str, str], ...] = ()
    facet_labels: tuple[str, ...] = field(default=(), compare=False)

    def attribute(self, name: str) -> str | None:
        return dict(self.attributes).get(name)

    @property
    def work_languages(self) -> frozenset[str]:
        return self.languages | ({self.language} if self.language else frozenset())

    def ineligible_reason(self, today: date) -> str | None:
        """Why this posting must not be suggested at all (hard filters), or None."""
        if not self.is_open:
            return "closed"
        if self.expires_on and self.expires_on < today:
            return "expired"
        if self.deadline and self.deadline < today:
            return "deadline passed"
        if self.capacity_left is not None and self.capacity_left <= 0:
            return "full"
        return None


def posting_text(posting: Posting) -> str:
    """The text that is embedded: title, description, then the labels of its subjects and support types.

    GBF target labels are left out: long and shared by many postings, they pulled unrelated texts
    together (e5 alone on the evaluation set: recall@5 0.77 with them, 0.93 without). Targets count
    as a facet in the score instead.
    """
    parts = [posting.title.strip().rstrip(".") + ".", posting.description.strip()]
    if posting.facet_labels:
        parts.append("; ".join(posting.facet_labels) + ".")
    return "\n".join(part for part in parts if part.strip(". "))


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Labels:
    """Labels of vocabulary codes, Parties and regions in the six UN languages."""

    def __init__(self, labels: Mapping[str, Mapping[str, str]]):
        self._labels = labels

    def __call__(self, code: str, language: str = "en") -> str:
        entry = self._labels.get(code)
        if not entry:
            return code
        return entry.get(language) or entry.get("en") or code

    @classmethod
    @cache
    def from_seed_data(cls) -> Labels:
        """The project's own vocabulary and Party lists, read straight from seed_data/ (no database)."""
        vocabulary = json.loads((SEED_DATA / "vocabulary.json").read_text(encoding="utf-8"))
        parties = json.loads((SEED_DATA / "parties.json").read_text(encoding="utf-8"))
        labels = {term["code"]: term["labels"] for term in vocabulary["terms"]}
        labels |= {region["code"]: region["labels"] for region in parties["regions"]}
        labels |= {party["code"]: party["names"] for party in parties["parties"]}
        return cls(labels)
