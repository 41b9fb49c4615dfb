"""``python -m matching.engine rank --needs NEEDS.jsonl --offers OFFERS.jsonl --top K --out RANKED.jsonl``

Ranks every need of an exported call for proposals against the offers, with no Django and no database.
Bad lines are all reported by file and line number; nothing is written then (exit status 2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .batch import InputError, rank_needs, read_history, read_postings
from .encoder import load_encoder
from .hubness import HUBNESS_MIN_QUERIES
from .postings import NEED, OFFER, Labels


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m matching.engine", description=__doc__.split("\n\n")[1])
    commands = parser.add_subparsers(dest="command", required=True)
    rank = commands.add_parser("rank", help="rank offers for every need of a file")
    rank.add_argument("--needs", type=Path, required=True, help="needs, one JSON object per line")
    rank.add_argument("--offers", type=Path, required=True, help="offers, one JSON object per line")
    rank.add_argument("--history", type=Path, help="past accepted matches: need_id, offer_id per line")
    rank.add_argument("--top", type=int, default=10, metavar="K", help="offers kept per need (default 10)")
    rank.add_argument("--out", type=Path, required=True, help="where the ranked JSON Lines go")
    rank.add_argument(
        "--report",
        action="store_true",
        help="print the weights used (learnt from --history) and the hubness correction on stderr",
    )
    rank.add_argument(
        "--attributes",
        default="",
        metavar="NAME,…",
        help="other columns of the needs file (categories or dates) whose agreement with the needs an "
        "offer already served counts in its history, weighed by what --history teaches",
    )
    rank.add_argument(
        "--model", help="model name or folder (default: MATCHING_MODEL or multilingual-e5-small)"
    )
    return parser


def _write_atomically(path: Path, lines: Sequence[Mapping[str, Any]]) -> None:
    """Write to a temporary file beside ``path`` and rename it: a reader never sees half a file."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.top < 1:
        print("error: --top must be at least 1", file=sys.stderr)
        return 2
    if not args.out.parent.resolve().is_dir():
        print(f"error: {args.out.parent} is not a folder", file=sys.stderr)
        return 2
    labels = Labels.from_seed_data()
    attributes = [name.strip() for name in args.attributes.split(",") if name.strip()]
    errors = []
    needs = offers = []
    for path, side in ((args.needs, NEED), (args.offers, OFFER)):
        try:
            postings = read_postings(path, side, labels, attributes if side == NEED else ())
        except InputError as error:
            errors += error.errors
            continue
        if side == NEED:
            needs = postings
        else:
            offers = postings
    history = []
    if args.history and not errors:
        try:
            history = read_history(args.history, {n.id for n in needs}, {o.id for o in offers})
        except InputError as error:
            errors += error.errors
    if errors:
        for message in errors:
            print(f"error: {message}", file=sys.stderr)
        print(f"{len(errors)} error(s); nothing written.", file=sys.stderr)
        return 2
    encoder = load_encoder(args.model)
    report: dict[str, Any] = {}
    ranked = rank_needs(
        needs,
        offers,
        encoder=encoder,
        history=history,
        top_k=args.top,
        labels=labels,
        progress=True,
        report=report,
    )
    _write_atomically(args.out, ranked)
    if args.report:
        origin = "learnt from" if report["learnt"] else "defaults; too few to learn from in"
        print(
            f"weights {report['version']} ({origin} {report['decisions']} past matches): "
            + json.dumps(report["weights"], sort_keys=True),
            file=sys.stderr,
        )
        if report["attribute_weights"]:
            print(
                "attribute weights: " + json.dumps(report["attribute_weights"], sort_keys=True),
                file=sys.stderr,
            )
        hubness = report["hubness_neighbours"]
        print(
            f"hubness correction: CSLS, k={hubness}, over the {len(needs)} needs"
            if hubness
            else f"hubness correction: none (fewer than {HUBNESS_MIN_QUERIES} needs)",
            file=sys.stderr,
        )
    print(f"ranked {len(needs)} needs against {len(offers)} offers with {encoder.name} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
