"""The interface's catalogues in the five languages other than English: complete, every placeholder kept,
the plural forms each language has (Arabic six, Russian three)."""

import re

import polib
import pytest

from frontend.compile_translations import LOCALE_DIR
from tests.system_tools import require_tool

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


# The locale folders (Chinese: simplified, zh_Hans) and how many plural forms each language has (CLDR).
CATALOGUES = {"fr": 2, "es": 2, "ar": 6, "zh_Hans": 1, "ru": 3}


@pytest.mark.parametrize("language", list(CATALOGUES))
def test_every_message_is_translated_with_its_placeholders(language):
    catalogue = polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 500
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    for entry in catalogue:
        if entry.msgid_plural:
            forms = [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
            # the last form (other) says everything the English plural says; the others (Arabic's "one",
            # "two"...) may spell the number out in words instead
            assert set(PLACEHOLDER.findall(forms[-1])) == set(PLACEHOLDER.findall(entry.msgid_plural)), (
                entry.msgid
            )
            allowed = set(PLACEHOLDER.findall(entry.msgid_plural)) | set(PLACEHOLDER.findall(entry.msgid))
            assert all(set(PLACEHOLDER.findall(form)) <= allowed for form in forms), entry.msgid
        else:
            assert set(PLACEHOLDER.findall(entry.msgstr)) == set(PLACEHOLDER.findall(entry.msgid)), (
                entry.msgid
            )


@pytest.mark.parametrize(("language", "forms"), list(CATALOGUES.items()))
def test_each_language_has_its_plural_forms(language, forms):
    """Arabic has six plural forms (zero, one, two, few, many, other), Russian three, Chinese one: the
    catalogue's header says so and every plural message fills each form."""
    catalogue = polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))
    assert re.search(rf"nplurals\s*=\s*{forms}\s*;", catalogue.metadata["Plural-Forms"])
    plurals = [entry for entry in catalogue if entry.msgid_plural and not entry.obsolete]
    assert plurals
    for entry in plurals:
        assert sorted(entry.msgstr_plural) == list(range(forms)), entry.msgid
        assert all(entry.msgstr_plural[i].strip() for i in range(forms)), entry.msgid


def test_every_string_in_the_code_is_in_the_catalogues(tmp_path, monkeypatch, settings):
    """Extract the messages afresh (Django's makemessages, GNU gettext) from a copy of the code and its
    catalogues: a string added to a template or to the code without a translation fails here."""
    import shutil

    from django.core.management import call_command

    require_tool("xgettext", package="gettext", suite="the extraction of messages (GNU gettext)")
    root = LOCALE_DIR.parent.parent
    for package in ("api", "config", "frontend", "marketplace", "matching", "network", "seed_data"):
        shutil.copytree(
            root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    monkeypatch.chdir(tmp_path)
    settings.LOCALE_PATHS = [tmp_path / "frontend" / "locale"]
    call_command("makemessages", locale=list(CATALOGUES), verbosity=0)
    for language in CATALOGUES:
        catalogue = polib.pofile(
            str(tmp_path / "frontend" / "locale" / language / "LC_MESSAGES" / "django.po")
        )
        missing = [e.msgid for e in catalogue.untranslated_entries() + catalogue.fuzzy_entries()]
        assert missing == [], (language, missing)
