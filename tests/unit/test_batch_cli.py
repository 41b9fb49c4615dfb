"""The batch ranking command: bad input is reported by line and writes nothing; good input is ranked
by the real model."""

import json
import re
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from matching.engine.__main__ import main
from matching.engine.batch import posting_from_record, rank_needs
from matching.engine.postings import NEED, OFFER
from matching.engine.scoring import DEFAULT_WEIGHTS

ROOT = Path(__file__).resolve().parents[2]


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


@pytest.fixture
def files(tmp_path):
    needs = write_lines(
        tmp_path / "needs.jsonl", [{"id": "n1", "title": "Former des douaniers", "language": "fr"}]
    )
    offers = write_lines(tmp_path / "offers.jsonl", [{"id": "o1", "title": "Customs training"}])
    return tmp_path, needs, offers


def run(tmp_path, needs, offers, *extra):
    return main(
        ["rank", "--needs", str(needs), "--offers", str(offers), "--out", str(tmp_path / "out.jsonl"), *extra]
    )


@pytest.mark.parametrize(
    ("bad_lines", "messages"),
    [
        (["{not json"], ["needs.jsonl:2: not valid JSON"]),
        ([["a list"]], ["needs.jsonl:2: each line must be a JSON object"]),
        ([{"id": "n2"}], ["needs.jsonl:2: 'title' or 'description' must be a non-empty string"]),
        (
            [{"id": "n2", "title": " ", "description": ""}],
            ["needs.jsonl:2: 'title' or 'description' must be a non-empty string"],
        ),
        ([{"id": "n2", "title": 5, "description": "Text"}], ["needs.jsonl:2: 'title' must be a string"]),
        ([{"title": "No id"}], ["needs.jsonl:2: 'id' must be a non-empty string or number"]),
        (
            [{"id": "n2", "title": "T", "subjects": "taxonomy"}],
            ["needs.jsonl:2: 'subjects' must be a list of strings"],
        ),
        ([{"id": "n2", "title": "T", "starts_on": "soon"}], ["needs.jsonl:2: 'starts_on' must be a date"]),
        ([{"id": "n1", "title": "Again"}], ["needs.jsonl:2: id 'n1' already used on line 1"]),
        (["", {"id": "n3", "title": ""}, "[1"], ["needs.jsonl:3: 'title'", "needs.jsonl:4: not valid JSON"]),
    ],
)
def test_bad_lines_are_reported_by_number_and_nothing_is_written(files, capsys, bad_lines, messages):
    tmp_path, needs, offers = files
    write_lines(needs, [{"id": "n1", "title": "Former des douaniers"}, *bad_lines])
    (tmp_path / "out.jsonl").write_text("previous output\n")
    assert run(tmp_path, needs, offers) == 2
    err = capsys.readouterr().err
    for message in messages:
        assert message in err
    assert "nothing written" in err
    assert (tmp_path / "out.jsonl").read_text() == "previous output\n"


class RecordingEncoder:
    """A stand-in model: bag-of-words vectors, and a record of every text it was asked to encode."""

    name = "recording"

    def __init__(self):
        self.texts: list[str] = []

    def encode(self, texts, **_):
        self.texts += texts
        vectors = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, zlib.crc32(word.strip(".,").encode()) % 64] += 1.0
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)

    def calibrate(self, cosines):
        return np.clip(np.asarray(cosines, dtype=np.float32), 0.0, 1.0)


@pytest.fixture
def recording(monkeypatch):
    encoder = RecordingEncoder()
    monkeypatch.setattr("matching.engine.__main__.load_encoder", lambda name=None: encoder)
    return encoder


def test_records_with_only_a_description_or_only_a_title_are_ranked(tmp_path, capsys, recording):
    """Real exports often have one text column: id plus a title or a description is enough."""
    needs = write_lines(
        tmp_path / "needs.jsonl",
        [
            {"id": 1, "description": "Formation des douaniers aux espèces envahissantes"},
            {"id": "n2", "title": "Customs training on invasive species"},
            {"id": "n3", "title": "", "description": "Seed banks for villages"},
        ],
    )
    offers = write_lines(
        tmp_path / "offers.jsonl",
        [
            {"id": "o1", "description": "Customs training: invasive species at borders"},
            {"id": "o2", "title": "Grants for community seed banks", "description": None},
        ],
    )
    assert run(tmp_path, needs, offers, "--top", "2") == 0
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [line["need_id"] for line in lines] == ["1", "n2", "n3"]
    assert all(len(line["ranked"]) == 2 for line in lines)
    assert lines[1]["ranked"][0]["offer_id"] == "o1"
    assert lines[2]["ranked"][0]["offer_id"] == "o2"
    assert all(isinstance(r["why"]["summary"], str) for line in lines for r in line["ranked"])
    # The embedded text is whichever text the record has, with no stray full stop for a missing title.
    assert recording.texts == [
        "Formation des douaniers aux espèces envahissantes",
        "Customs training on invasive species.",
        "Seed banks for villages",
        "Customs training: invasive species at borders",
        "Grants for community seed banks.",
    ]


def test_the_command_shows_encoding_progress_on_stderr(files, capsys, recording):
    tmp_path, needs, offers = files
    assert run(tmp_path, needs, offers) == 0
    captured = capsys.readouterr()
    assert "encoding needs" in captured.err and "encoding offers" in captured.err
    assert "1/1" in captured.err
    assert "encoding" not in captured.out


def test_library_calls_show_no_progress(capsys):
    """The web app calls rank_needs too: no progress bar there unless asked for."""
    need = posting_from_record({"id": "n1", "description": "Customs training"}, NEED)
    offer = posting_from_record({"id": "o1", "title": "Customs training"}, OFFER)
    ranked = rank_needs([need], [offer], encoder=RecordingEncoder(), top_k=1)
    assert ranked[0]["ranked"][0]["offer_id"] == "o1"
    assert capsys.readouterr().err == ""


def test_history_must_name_needs_and_offers_of_the_files(files, capsys):
    tmp_path, needs, offers = files
    history = write_lines(tmp_path / "history.jsonl", [{"need_id": "n1", "offer_id": "o9"}])
    assert run(tmp_path, needs, offers, "--history", str(history)) == 2
    assert "history.jsonl:1: offer_id 'o9' is not in the offers file" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_missing_file_and_bad_top_are_errors(files, capsys):
    tmp_path, needs, offers = files
    assert run(tmp_path, tmp_path / "absent.jsonl", offers) == 2
    assert "absent.jsonl: cannot be read" in capsys.readouterr().err
    assert run(tmp_path, needs, offers, "--top", "0") == 2
    assert not (tmp_path / "out.jsonl").exists()


def test_invalid_utf8_is_reported(files, capsys):
    tmp_path, needs, offers = files
    needs.write_bytes(b'{"id": "n1", "title": "caf\xe9"}\n')
    assert run(tmp_path, needs, offers) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_the_command_ranks_every_need_across_languages(tmp_path):
    """End to end, as a secretariat runs it: a separate process, the real model, unknown fields ignored."""
    needs = write_lines(
        tmp_path / "needs.jsonl",
        [
            {
                "id": "chad",
                "title": "Former les douaniers à reconnaître les espèces exotiques envahissantes",
                "description": "Nos agents ne savent pas reconnaître les insectes envahissants.",
                "language": "fr",
                "subjects": ["invasive-alien-species"],
                "support_types": ["training"],
                "country": "TD",
                "region": "african",
                "internal_note": "ignored",
            },
            {
                "id": "samoa",
                "title": "Marine spatial plan for our ocean",
                "language": "en",
                "subjects": ["marine-coastal"],
                "support_types": ["technical-advice"],
                "country": "WS",
                "region": "asia-pacific",
            },
        ],
    )
    offers = write_lines(
        tmp_path / "offers.jsonl",
        [
            {
                "id": "course",
                "title": "Border biosecurity course: detecting invasive species at ports",
                "language": "en",
                "kind": "training",
                "languages": ["en", "fr"],
                "subjects": ["invasive-alien-species"],
                "support_types": ["training"],
            },
            {
                "id": "msp",
                "title": "Planificación espacial marina: asesoría técnica",
                "language": "es",
                "kind": "expertise",
                "languages": ["es", "en"],
                "subjects": ["marine-coastal"],
                "support_types": ["technical-advice"],
            },
            {
                "id": "seeds",
                "title": "Grants for community seed banks",
                "language": "en",
                "kind": "funding",
                "subjects": ["agricultural-biodiversity"],
                "support_types": ["funding"],
            },
        ],
    )
    out = tmp_path / "ranked.jsonl"
    history = write_lines(tmp_path / "history.jsonl", [{"need_id": "samoa", "offer_id": "msp"}])
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "matching.engine",
            "rank",
            "--needs",
            str(needs),
            "--offers",
            str(offers),
            "--history",
            str(history),
            "--top",
            "2",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    assert "encoding offers" in completed.stderr  # progress goes to stderr, never to stdout
    assert "encoding" not in completed.stdout
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["need_id"] for line in lines] == ["chad", "samoa"]
    chad, samoa = lines
    assert [r["offer_id"] for r in chad["ranked"]][0] == "course"
    assert len(chad["ranked"]) == 2
    assert chad["ranked"][0]["why"]["language"] == "fr"
    assert "shared: Invasive alien species" in chad["ranked"][0]["why"]["summary"]
    assert samoa["ranked"][0]["offer_id"] == "msp"
    assert all(0 <= r["score"] <= 1 for line in lines for r in line["ranked"])


def _funders_known_by_history(n_needs: int = 60):
    """Funders with no text but their names, each with a past of needs on one theme: the right funder is
    the one whose past needs resemble the need, whatever its name says."""
    themes = ["mangrove restoration", "herbarium digitisation", "customs training", "seed banks"]
    needs = [
        posting_from_record({"id": f"n{i}", "description": f"{themes[i % 4]} project {i}"}, NEED)
        for i in range(n_needs)
    ]
    offers = [
        posting_from_record({"id": f"f{t}", "description": f"Fund number {t}"}, OFFER) for t in range(4)
    ]
    history = [(f"n{i}", f"f{i % 4}") for i in range(8, n_needs)]
    return needs, offers, history


def test_weights_are_learnt_from_the_history_and_never_from_the_need_ranked():
    needs, offers, history = _funders_known_by_history()
    report: dict = {}

    learnt = rank_needs(needs, offers, encoder=RecordingEncoder(), history=history, top_k=4, report=report)
    defaults = rank_needs(needs, offers, encoder=RecordingEncoder(), history=history, top_k=4, learn=False)

    assert report["learnt"] and report["decisions"] == len(history)
    assert report["weights"]["history"] > report["weights"]["semantic"]
    assert len(report["folds"]) == 5 and all(report["folds"].values())
    # the first 8 needs have no recorded funder: their theme's funder comes first once weights are learnt
    firsts = {line["need_id"]: line["ranked"][0]["offer_id"] for line in learnt[:8]}
    assert firsts == {f"n{i}": f"f{i % 4}" for i in range(8)}
    assert [line["ranked"][0]["offer_id"] for line in defaults[:8]] != list(firsts.values())


def test_too_little_history_keeps_the_default_weights():
    needs, offers, history = _funders_known_by_history(n_needs=20)
    report: dict = {}
    rank_needs(needs, offers, encoder=RecordingEncoder(), history=history[:5], top_k=4, report=report)
    assert not report["learnt"] and report["weights"] == DEFAULT_WEIGHTS


def test_the_command_reports_the_weights_it_used(files, capsys, recording):
    tmp_path, needs, offers = files
    assert run(tmp_path, needs, offers, "--report") == 0
    err = capsys.readouterr().err
    assert re.search(r"weights [0-9a-f]{12} \(defaults; too few to learn from in 0 past matches\)", err)
    assert "hubness correction: none (fewer than 50 needs)" in err
