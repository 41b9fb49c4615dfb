"""Columns of an export as evidence learnt from the history (the CLI's --attributes), and the refinement
of learnt weights for the top of each list."""

import numpy as np
import pytest

from matching.engine.attributes import AttributeTable
from matching.engine.batch import posting_from_record, rank_needs
from matching.engine.learning import reciprocal_rank_of, refine_for_reciprocal_rank
from matching.engine.postings import NEED, OFFER
from matching.engine.scoring import FEATURES
from tests.unit.test_batch_cli import RecordingEncoder, run, write_lines

MODALITIES = ["bilateral", "multilateral", "loan", "grant"]


def test_dates_agree_by_closeness_and_categories_by_equality():
    table = AttributeTable(
        {
            "date": ["2012", "2012-07-01", "2015-03", None],
            "sector": ["Health", "Health", "Water", None],
            "mixed": ["2012", "soon", "2012", None],  # not all dates: categories
        }
    )
    dates = table.agreement("date", [0], [0, 1, 2, 3])[0]
    assert dates[0] == dates[1] == 1.0  # "2012" is read as mid-2012
    assert 0.0 < dates[2] < 0.1 and dates[3] == 0.0  # ~2.7 years apart; missing agrees with nothing
    assert list(table.agreement("sector", [0, 3], [0, 1, 2, 3]).ravel()) == [1, 1, 0, 0, 0, 0, 0, 0]
    assert list(table.agreement("mixed", [0], [0, 1, 2])[0]) == [1, 0, 1]


def _funders_known_by_a_column(n_needs: int = 60, attributes=("modality", "noise")):
    """Needs whose texts say nothing of their funder (one shared text), funded by modality: funder t
    funds the needs of modality t. A second column is noise."""
    rng = np.random.default_rng(0)
    records = [
        {
            "id": f"n{i}",
            "description": "Biodiversity project",
            "modality": MODALITIES[i % 4],
            "noise": str(rng.integers(0, 3)),
        }
        for i in range(n_needs)
    ]
    needs = [posting_from_record(record, NEED, attributes) for record in records]
    offers = [posting_from_record({"id": f"f{t}", "description": f"Fund {t}"}, OFFER) for t in range(4)]
    history = [(f"n{i}", f"f{i % 4}") for i in range(8, n_needs)]
    return needs, offers, history


def test_a_column_that_tells_the_funder_is_learnt_and_noise_is_not():
    needs, offers, history = _funders_known_by_a_column()
    report: dict = {}
    ranked = rank_needs(needs, offers, encoder=RecordingEncoder(), history=history, top_k=4, report=report)

    assert report["attribute_weights"]["modality"] > 0
    assert report["attribute_weights"]["noise"] == 0
    # the first 8 needs have no recorded funder: the funder of their modality comes first
    assert [line["ranked"][0]["offer_id"] for line in ranked[:8]] == [f"f{i % 4}" for i in range(8)]

    without, _offers, _history = _funders_known_by_a_column(attributes=())
    plain = rank_needs(without, offers, encoder=RecordingEncoder(), history=history, top_k=4)
    assert [line["ranked"][0]["offer_id"] for line in plain[:8]] != [f"f{i % 4}" for i in range(8)]


def test_without_history_the_columns_count_for_nothing():
    needs, offers, _history = _funders_known_by_a_column()
    report: dict = {}
    rank_needs(needs, offers, encoder=RecordingEncoder(), top_k=4, report=report)
    assert report["attribute_weights"] == {"modality": 0.0, "noise": 0.0}


def test_the_command_reads_the_named_columns_and_reports_their_weights(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("matching.engine.__main__.load_encoder", lambda name=None: RecordingEncoder())
    needs, _offers, history = _funders_known_by_a_column()
    needs_file = write_lines(
        tmp_path / "needs.jsonl",
        [{"id": n.id, "description": n.description, **dict(n.attributes), "ignored": [1]} for n in needs],
    )
    offers_file = write_lines(
        tmp_path / "offers.jsonl", [{"id": f"f{t}", "title": f"Fund {t}"} for t in range(4)]
    )
    history_file = write_lines(
        tmp_path / "history.jsonl", [{"need_id": n, "offer_id": o} for n, o in history]
    )
    assert (
        run(
            tmp_path,
            needs_file,
            offers_file,
            "--history",
            str(history_file),
            "--attributes",
            "modality",
            "--report",
        )
        == 0
    )
    assert '"modality": 0.' in capsys.readouterr().err


def test_an_attribute_must_be_a_string_or_a_number(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("matching.engine.__main__.load_encoder", lambda name=None: RecordingEncoder())
    needs = write_lines(tmp_path / "needs.jsonl", [{"id": "n1", "title": "T", "sector": ["Health"]}])
    offers = write_lines(tmp_path / "offers.jsonl", [{"id": "o1", "title": "Customs training"}])
    assert run(tmp_path, needs, offers, "--attributes", "sector") == 2
    assert "needs.jsonl:1: 'sector' (an attribute) must be a string or a number" in capsys.readouterr().err
    assert run(tmp_path, needs, offers) != 2  # unnamed columns are ignored, as before


@pytest.mark.parametrize("seed", range(20))
def test_refining_for_the_top_of_the_lists_never_lowers_their_reciprocal_rank(seed):
    rng = np.random.default_rng(seed)
    groups = []
    for _need in range(30):
        rows = [dict(zip(FEATURES, rng.random(len(FEATURES)), strict=True)) for _candidate in range(8)]
        labels = [0] * 8
        labels[int(rng.integers(0, 8))] = 1
        groups.append((rows, labels))
    start = rng.random(len(FEATURES))
    start /= start.sum()
    matrices = [
        (np.array([[row[name] for name in FEATURES] for row in rows]), np.array(labels))
        for rows, labels in groups
    ]
    refined = refine_for_reciprocal_rank(groups, start)
    assert refined.sum() == pytest.approx(1.0) and (refined >= 0).all()
    assert reciprocal_rank_of(matrices, refined) >= reciprocal_rank_of(matrices, start)
