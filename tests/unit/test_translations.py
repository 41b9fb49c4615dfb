"""The interface's French and Spanish catalogues: complete, and every placeholder kept."""

import re

import polib
import pytest

from frontend.compile_translations import LOCALE_DIR

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
