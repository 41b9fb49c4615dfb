"""The batch ranking command: bad input is reported by line and writes nothing; good input is ranked
by the real model."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching.engine.__main__ import main

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
        ([{"id": "n2"}], ["needs.jsonl:2: 'title' must be a non-empty string"]),
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
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["need_id"] for line in lines] == ["chad", "samoa"]
    chad, samoa = lines
    assert [r["offer_id"] for r in chad["ranked"]][0] == "course"
    assert len(chad["ranked"]) == 2
    assert chad["ranked"][0]["why"]["language"] == "fr"
    assert "shared: Invasive alien species" in chad["ranked"][0]["why"]["summary"]
    assert samoa["ranked"][0]["offer_id"] == "msp"
    assert all(0 <= r["score"] <= 1 for line in lines for r in line["ranked"])
