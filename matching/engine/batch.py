"""Ranking whole files of needs against offers, with no database: JSON Lines in, JSON Lines out."""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeAlias, TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray
from tqdm import tqdm

from .attributes import AttributeTable, fit_attribute_weights
from .hubness import HUBNESS_NEIGHBOURS, hubness_penalty
from .learning import fit_pairwise_weights, weights_version
from .postings import OFFER, Posting, posting_text
from .retrieval import top_k_exact
from .scoring import DEFAULT_WEIGHTS, HISTORY_NEIGHBOURS, Reasons, Scored, rank

RETRIEVE_AT_LEAST = 100  # candidates re-ranked per need: semantic retrieval first, facets after
PROGRESS_CHUNK = 256  # texts encoded between two updates of the progress bar
LEARNING_FOLDS = 5  # a need in the history is ranked with weights learnt without its fold
LIST_FIELDS = ("subjects", "gbf_targets", "support_types", "languages", "regions", "countries")
TEXT_FIELDS = ("description", "language", "country", "region", "kind")
DATE_FIELDS = ("starts_on", "ends_on", "deadline", "expires_on")


class TextEncoder(Protocol):
    """What ranking needs of a model: an ``encoder.Encoder``, or a stand-in (tests, benchmarks)."""

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        """Normalised vectors, one row per text."""
        ...

    def calibrate(self, cosines: ArrayLike) -> NDArray[np.floating[Any]]:
        """Raw cosines to 0..1 similarities."""
        ...


class RankedOffer(TypedDict):
    offer_id: str
    score: float
    why: Reasons  # the reasons, their summary, and the rounded "features"


class RankedNeed(TypedDict):
    """One line of ``rank_needs``'s output (and of the CLI's)."""

    need_id: str
    ranked: list[RankedOffer]


# The ranking of one need (by index) with the given weights, best top_k first (None: every candidate).
Ranker: TypeAlias = Callable[[int, Mapping[str, float], int | None], list[Scored]]
# Learnt weights: from every decision (key None) and without each fold's (keys 0 to LEARNING_FOLDS - 1);
# None where the decisions are too few.
FoldWeights: TypeAlias = dict[int | None, dict[str, float] | None]


class InputError(Exception):
    """Bad input lines, each reported as ``file:line: message``."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _record_errors(record: Mapping[str, Any], attributes: Sequence[str] = ()) -> list[str]:
    errors = []
    if (
        not isinstance(record.get("id"), str | int)
        or isinstance(record.get("id"), bool)
        or record["id"] == ""
    ):
        errors.append("'id' must be a non-empty string or number")
    # Real exports often have a single text column: a title, a description, or both will do.
    if record.get("title") is not None and not isinstance(record["title"], str):
        errors.append("'title' must be a string")
    elif not any(
        isinstance(record.get(name), str) and record[name].strip() for name in ("title", "description")
    ):
        errors.append("'title' or 'description' must be a non-empty string")
    for name in TEXT_FIELDS:
        if record.get(name) is not None and not isinstance(record[name], str):
            errors.append(f"'{name}' must be a string")
    for name in LIST_FIELDS:
        value = record.get(name)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            errors.append(f"'{name}' must be a list of strings")
    for name in DATE_FIELDS:
        if record.get(name) is not None:
            try:
                date.fromisoformat(record[name])
            except (TypeError, ValueError):
                errors.append(f"'{name}' must be a date (YYYY-MM-DD)")
    for name in ("capacity", "capacity_left"):
        value = record.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            errors.append(f"'{name}' must be a whole number")
    if record.get("worldwide") is not None and not isinstance(record["worldwide"], bool):
        errors.append("'worldwide' must be true or false")
    for name in attributes:
        value = record.get(name)
        if value is not None and (not isinstance(value, str | int | float) or isinstance(value, bool)):
            errors.append(f"'{name}' (an attribute) must be a string or a number")
    return errors


def posting_from_record(record: Mapping[str, Any], side: str, attributes: Sequence[str] = ()) -> Posting:
    """A posting from an export line. For an offer, ``region`` is the one region it serves and
    ``country`` where it is based; an offer with no region, regions or countries is worldwide.
    ``attributes``: other columns kept as they are (``attributes.py``)."""

    def codes(name: str) -> frozenset[str]:
        return frozenset(record.get(name) or ())

    def day(name: str) -> date | None:
        return date.fromisoformat(record[name]) if record.get(name) else None

    regions, countries = codes("regions"), codes("countries")
    if side == OFFER and record.get("region"):
        regions |= {record["region"]}
    return Posting(
        id=str(record["id"]),
        side=side,
        title=record.get("title") or "",
        description=record.get("description") or "",
        language=record.get("language"),
        subjects=codes("subjects"),
        gbf_targets=codes("gbf_targets"),
        support_types=codes("support_types"),
        country=record.get("country"),
        region=record.get("region"),
        languages=codes("languages"),
        kind=record.get("kind"),
        worldwide=bool(record.get("worldwide")) or (side == OFFER and not regions and not countries),
        regions=regions,
        countries=countries,
        starts_on=day("starts_on"),
        ends_on=day("ends_on"),
        deadline=day("deadline"),
        expires_on=day("expires_on"),
        capacity=record.get("capacity"),
        capacity_left=record.get("capacity_left"),
        attributes=tuple(
            (name, str(record[name]).strip()) for name in attributes if str(record.get(name) or "").strip()
        ),
    )


def _json_lines(path: Path) -> tuple[list[tuple[int, object]], list[str]]:
    lines: list[tuple[int, object]] = []
    errors: list[str] = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    lines.append((number, json.loads(line)))
                except json.JSONDecodeError as error:
                    errors.append(f"{path}:{number}: not valid JSON ({error.msg})")
    except UnicodeDecodeError as error:
        errors.append(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})")
    except OSError as error:
        errors.append(f"{path}: cannot be read ({error.strerror})")
    return lines, errors


def read_postings(
    path: Path,
    side: str,
    labels: Callable[[str, str], str] | None = None,
    attributes: Sequence[str] = (),
) -> list[Posting]:
    """Every posting of a JSON Lines file; raises InputError listing every bad line. ``attributes``:
    the other columns to keep (the CLI's ``--attributes``)."""
    lines, errors = _json_lines(path)
    postings: list[Posting] = []
    seen: dict[str, int] = {}  # id -> line number
    for number, record in lines:
        if not isinstance(record, dict):
            errors.append(f"{path}:{number}: each line must be a JSON object")
            continue
        if problems := _record_errors(record, attributes):
            errors.extend(f"{path}:{number}: {problem}" for problem in problems)
            continue
        posting = posting_from_record(record, side, attributes)
        if posting.id in seen:
            errors.append(f"{path}:{number}: id {posting.id!r} already used on line {seen[posting.id]}")
            continue
        seen[posting.id] = number
        if labels:
            language = posting.language or "en"
            facets = [*sorted(posting.subjects), *sorted(posting.support_types)]
            posting = replace(posting, facet_labels=tuple(labels(code, language) for code in facets))
        postings.append(posting)
    if not postings and not errors:
        errors.append(f"{path}: no postings")
    if errors:
        raise InputError(errors)
    return postings


def read_history(path: Path, need_ids: set[str], offer_ids: set[str]) -> list[tuple[str, str]]:
    """Past accepted (need_id, offer_id) pairs; both must be lines of the ranked files."""
    lines, errors = _json_lines(path)
    pairs: list[tuple[str, str]] = []
    for number, record in lines:
        if not isinstance(record, dict):
            errors.append(f"{path}:{number}: each line must be a JSON object")
            continue
        need_id, offer_id = str(record.get("need_id", "")), str(record.get("offer_id", ""))
        if need_id not in need_ids:
            errors.append(f"{path}:{number}: need_id {record.get('need_id')!r} is not in the needs file")
        if offer_id not in offer_ids:
            errors.append(f"{path}:{number}: offer_id {record.get('offer_id')!r} is not in the offers file")
        if need_id in need_ids and offer_id in offer_ids:
            pairs.append((need_id, offer_id))
    if errors:
        raise InputError(errors)
    return pairs


def _encode(encoder: TextEncoder, texts: list[str], *, progress: bool, what: str) -> NDArray[np.float32]:
    """Encode ``texts``; with ``progress``, in chunks with a progress bar on stderr (the CLI)."""
    if not progress:
        return encoder.encode(texts)
    chunks: list[NDArray[np.float32]] = []
    with tqdm(total=len(texts), desc=f"encoding {what}", unit="text", file=sys.stderr) as bar:
        for start in range(0, len(texts), PROGRESS_CHUNK):
            chunks.append(encoder.encode(texts[start : start + PROGRESS_CHUNK]))
            bar.update(len(chunks[-1]))
    return np.concatenate(chunks) if chunks else encoder.encode([])


def _fold(need_id: str) -> int:
    return int(hashlib.sha256(need_id.encode()).hexdigest(), 16) % LEARNING_FOLDS


def rank_needs(
    needs: list[Posting],
    offers: list[Posting],
    *,
    encoder: TextEncoder,
    history: Sequence[tuple[str, str]] = (),
    top_k: int = 10,
    today: date | None = None,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    labels: Callable[[str, str], str] | None = None,
    vectors: tuple[NDArray[np.float32], NDArray[np.float32]] | None = None,
    progress: bool = False,
    learn: bool = True,
    report: dict[str, Any] | None = None,
    hubness: bool = True,
) -> list[RankedNeed]:
    """For every need, its ``top_k`` offers with scores and reasons (the CLI's output lines).

    With ``history`` (and ``learn``), the weights are learnt from it: its pairs against the other offers
    of the same needs (learning.fit_weights), never from the need being ranked (a need of the history is
    ranked with the weights of the folds it is not in); ``weights`` stay below the minimum of decisions.
    ``report``, if given, receives the weights used, their version and the number of decisions.
    ``vectors`` (needs, offers) may be passed in to skip encoding (benchmarks compare weightings).
    ``progress`` shows a progress bar on stderr while encoding (the CLI sets it; library calls don't).
    ``hubness``: correct the cosines for hubness (CSLS over the batch's needs, ``hubness.py``) where the
    batch has enough needs; the offers are retrieved and their semantic feature computed on the corrected
    cosine. The needs' ``attributes`` (the CLI's ``--attributes``), with ``history`` and ``learn``, count in
    the history feature with weights chosen from the history (``attributes.fit_attribute_weights``).
    """
    today = today or date.today()
    if vectors is None:
        vectors = (
            _encode(encoder, [posting_text(p) for p in needs], progress=progress, what="needs"),
            _encode(encoder, [posting_text(p) for p in offers], progress=progress, what="offers"),
        )
    need_vectors, offer_vectors = vectors
    need_index = {need.id: i for i, need in enumerate(needs)}
    served: dict[str, list[int]] = defaultdict(list)
    for need_id, offer_id in history:
        served[offer_id].append(need_index[need_id])
    retrieve = max(RETRIEVE_AT_LEAST, top_k * 10)
    penalty = hubness_penalty(need_vectors, offer_vectors) if hubness else None
    names = list(dict.fromkeys(name for need in needs for name, _value in need.attributes))
    table = AttributeTable({name: [need.attribute(name) for need in needs] for name in names})
    attribute_weights = (
        fit_attribute_weights(need_vectors, table, served, neighbours=HISTORY_NEIGHBOURS)
        if names and served and learn
        else dict.fromkeys(names, 0.0)
    )

    def ranked(i: int, weights: Mapping[str, float], top_k: int | None) -> list[Scored]:
        candidates = top_k_exact(need_vectors[i], offer_vectors, retrieve, penalty=penalty)
        # Leave the need's own past match out of its history: it would only confirm itself.
        rows_of = {offer_id: [j for j in rows if j != i] for offer_id, rows in served.items()}
        past = {offer_id: need_vectors[rows] for offer_id, rows in rows_of.items()}
        bonus = None
        if any(attribute_weights.values()):
            row = table.bonus(attribute_weights, [i], range(len(needs)))[0]
            bonus = {offer_id: row[rows] for offer_id, rows in rows_of.items()}
        return rank(
            needs[i],
            need_vectors[i],
            [offers[j] for j in candidates],
            offer_vectors[candidates],
            calibrate=encoder.calibrate,
            today=today,
            weights=weights,
            history=past,
            history_bonus=bonus,
            top_k=top_k or len(candidates),
            labels=labels,
            hubness=None if penalty is None else penalty[candidates],
        )

    learnt, history_needs = _learn(needs, history, ranked) if learn and history else ({}, set())
    if report is not None:
        used = learnt.get(None)
        report |= {
            "weights": used or dict(weights),
            "version": weights_version(used or dict(weights)),
            "learnt": used is not None,
            "decisions": len(history),
            "folds": {fold: learnt.get(fold) for fold in range(LEARNING_FOLDS)} if used else {},
            "hubness_neighbours": HUBNESS_NEIGHBOURS if penalty is not None else None,
            "attribute_weights": attribute_weights,
        }
    output: list[RankedNeed] = []
    for i, need in enumerate(needs):
        own = learnt.get(_fold(need.id)) if need.id in history_needs else learnt.get(None)
        scored = ranked(i, own or weights, top_k)
        output.append(
            {
                "need_id": need.id,
                "ranked": [
                    {"offer_id": s.candidate_id, "score": s.score, "why": s.why | {"features": s.features}}
                    for s in scored
                ],
            }
        )
    return output


def _learn(
    needs: list[Posting], history: Sequence[tuple[str, str]], ranked: Ranker
) -> tuple[FoldWeights, set[str]]:
    """Weights learnt from the history: its pairs ranked above the other candidates of the same needs.
    Keys: None (every decision) and each fold (the decisions of the other folds); with them, the ids of
    the history's needs (each ranked with the weights learnt without its own fold)."""
    taken = set(history)
    history_needs = {need_id for need_id, _offer_id in history}
    groups: list[tuple[int, tuple[list[dict[str, float]], list[int]]]] = []
    for i, need in enumerate(needs):
        if need.id in history_needs:
            scored = ranked(i, DEFAULT_WEIGHTS, None)
            labels = [int((need.id, s.candidate_id) in taken) for s in scored]
            groups.append((_fold(need.id), ([s.features for s in scored], labels)))

    def fit(without_fold: int | None) -> dict[str, float] | None:
        return fit_pairwise_weights([group for fold, group in groups if fold != without_fold])

    learnt: FoldWeights = {fold: fit(fold) for fold in (None, *range(LEARNING_FOLDS))}
    return learnt, history_needs
