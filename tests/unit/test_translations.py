"""The interface's French and Spanish catalogues: complete, and every placeholder kept."""

import re

import polib
import pytest

from frontend.compile_translations import LOCALE_DIR
from tests.system_tools import require_tool

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_message_is_translated_with_its_placeholders(language):
    catalogue = polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 500
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    for entry in catalogue:
        if entry.msgid_plural:
            assert set(PLACEHOLDER.findall(entry.msgstr_plural[1])) == set(
                PLACEHOLDER.findall(entry.msgid_plural)
            )
        else:
            assert set(PLACEHOLDER.findall(entry.msgstr)) == set(PLACEHOLDER.findall(entry.msgid)), (
                entry.msgid
            )


def test_every_string_in_the_code_is_in_the_catalogues(tmp_path, monkeypatch, settings):
    """Extract the messages afresh (Django's makemessages, GNU gettext) from a copy of the code and its
    catalogues: a string added to a template or to the code without a translation fails here."""
    import shutil

    from django.core.management import call_command

    require_tool("xgettext", package="gettext", suite="the extraction of messages (GNU gettext)")
    root = LOCALE_DIR.parent.parent
    for package in ("api", "config", "frontend", "marketplace", "matching", "seed_data"):
        shutil.copytree(
            root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    monkeypatch.chdir(tmp_path)
    settings.LOCALE_PATHS = [tmp_path / "frontend" / "locale"]
    call_command("makemessages", locale=["fr", "es"], verbosity=0)
    for language in ("fr", "es"):
        catalogue = polib.pofile(
            str(tmp_path / "frontend" / "locale" / language / "LC_MESSAGES" / "django.po")
        )
        missing = [e.msgid for e in catalogue.untranslated_entries() + catalogue.fuzzy_entries()]
        assert missing == [], language
