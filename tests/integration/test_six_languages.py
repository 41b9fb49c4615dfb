"""The six UN languages: the browser's language chooses the interface (Arabic right to left), the vocabulary,
the subregions and the Parties have names in each, e-mails go out in the recipient's language with a subject
that encodes, search by words stems each posting in its own language, and the matcher names the language."""

import datetime
import email
import email.header
import json
from pathlib import Path

import pytest
from django.core import mail
from django.utils import formats, translation

from marketplace import selectors
from marketplace.models import (
    LABEL_LANGUAGES,
    OTHER_LANGUAGE,
    Need,
    Offer,
    Party,
    Subregion,
    Term,
    content_language,
)
from matching import notification_kinds as match_kinds
from matching.engine.postings import NEED, OFFER, Posting
from matching.engine.scoring import features_and_reasons, short_label, summarise
from matching.explanations import reason_lines
from notifications import kinds, outbox
from seed_data import cldr_names, loader
from tests.factories import NeedFactory, OfferFactory, UserFactory

pytestmark = pytest.mark.django_db
SEED = Path(loader.__file__).resolve().parent


# --- The interface ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang", "direction"),
    [
        ("ar", "ar", ' dir="rtl"'),
        ("ar-EG,ar;q=0.9", "ar", ' dir="rtl"'),
        ("zh", "zh-hans", ""),  # left to right: the default
        ("zh-CN,zh;q=0.9", "zh-hans", ""),
        ("ru-RU", "ru", ""),
        ("en-GB", "en", ""),
        ("fr-FR", "fr", ""),
    ],
)
def test_the_browsers_language_chooses_the_interface_and_arabic_reads_right_to_left(
    client, accept, lang, direction
):
    page = client.get("/", headers={"accept-language": accept}).content.decode()
    assert f'<html lang="{lang}"{direction}>' in page


def test_the_switcher_offers_the_six_languages_each_in_its_own_language(client):
    page = client.get("/", headers={"accept-language": "en"}).content.decode()
    names = ["العربيّة", "简体中文", "English", "français", "Русский", "español"]
    positions = [page.index(f">{name}</option>") for name in names]
    assert positions == sorted(positions)  # the UN's order
    assert '<option value="ar" lang="ar">' in page and '<option value="zh-hans" lang="zh-hans">' in page


@pytest.mark.parametrize(
    ("language", "words"),
    [("ar", "مارس"), ("ru", "марта"), ("zh-hans", "2026年3月5日")],
)
def test_dates_are_written_the_locales_way(language, words):
    with translation.override(language):
        assert words in formats.date_format(datetime.date(2026, 3, 5), "DATE_FORMAT")


# --- Reference data -----------------------------------------------------------------------------------------


def test_the_vocabulary_subregions_and_parties_have_names_in_the_six_languages():
    assert set(LABEL_LANGUAGES) == {"en", "fr", "es", "ar", "zh", "ru"}
    for language in LABEL_LANGUAGES:
        assert not Term.objects.filter(**{f"label_{language}": ""}).exists(), language
        assert not Subregion.objects.filter(**{f"label_{language}": ""}).exists(), language
        assert not Party.objects.filter(**{f"name_{language}": ""}).exists(), language
    target = Term.objects.get(code="gbf-target-6")
    chad = Party.objects.get(code="TD")
    with translation.override("ar"):
        assert target.label.startswith("الغاية 6") and chad.name == "تشاد"
    with translation.override("zh-hans"):  # the interface's code is 7 letters, the column's 2
        assert target.label.startswith("行动目标6") and chad.name == "乍得"
        assert short_label(target.label) == "行动目标6"
    with translation.override("ru"):
        assert target.label.startswith("Задача 6") and chad.name == "Чад"
    assert content_language("zh-hans") == "zh" and content_language(None) == "en"
    assert target.label_in("pt") == target.label_en  # a language without labels reads English


def test_party_names_come_from_cldr_with_the_uns_official_names_where_cldr_is_informal():
    data = json.loads((SEED / "parties.json").read_text(encoding="utf-8"))
    for party in data["parties"]:
        assert {k: party["names"][k] for k in ("ar", "zh", "ru")} == cldr_names.party_names(party["code"])
    names = {party["code"]: party["names"] for party in data["parties"]}
    assert names["KR"]["ru"] == "Республика Корея" and names["RU"]["zh"] == "俄罗斯联邦"
    assert names["FR"] == {**names["FR"], "ar": "فرنسا", "zh": "法国", "ru": "Франция"}  # CLDR's as they are


def test_a_new_vocabulary_release_and_a_second_load_change_nothing():
    data = json.loads((SEED / "vocabulary.json").read_text(encoding="utf-8"))
    assert data["version"] != "2026.1"  # a new release: a database of the first one takes the new labels
    assert all(set(term["labels"]) == set(LABEL_LANGUAGES) for term in data["terms"])
    assert set(loader.load_vocabulary()) == {"unchanged"}
    assert set(loader.load_parties()) == {"unchanged"}


# --- Postings in any language: search by words -------------------------------------------------------------

FOUND = [
    ("ar", "تدريب موظفي الجمارك على كشف الأنواع الغازية", "الأنواع"),
    ("ar", "تدريب موظفي الجمارك على كشف الأنواع الغازية", "تدريب الجمارك"),
    ("ru", "Обучение таможенников выявлению инвазивных видов", "обучения таможенника"),
    ("ru", "Обучение таможенников выявлению инвазивных видов", "инвазивные"),
    ("zh", "滨海湿地保护与恢复培训", "湿地"),
    ("zh", "滨海湿地保护与恢复培训", "湿地 培训"),
    ("zh", "滨海湿地保护与恢复培训", "恢复培训 -森林"),
    (OTHER_LANGUAGE, "Mafunzo ya forodha kuhusu spishi vamizi", "forodha"),
]
NOT_FOUND = [
    ("zh", "滨海湿地保护与恢复培训", "地湿"),  # the same characters in another order
    ("zh", "滨海湿地保护与恢复培训", "森林"),
    ("zh", "滨海湿地保护与恢复培训", "湿地 -恢复"),
    ("ru", "Обучение таможенников выявлению инвазивных видов", "мангровые"),
]


def _found(query: str) -> list[str]:
    filters = selectors.PostingFilters(q=query)
    return [p.title for p in selectors.published_postings(model=Offer, filters=filters)]


@pytest.mark.parametrize(("language", "title", "query"), FOUND)
def test_a_word_finds_a_posting_in_arabic_chinese_russian_or_another_language(language, title, query):
    OfferFactory(title=title, language=language, description="")
    OfferFactory(title="Mapping coral reefs", language="en", description="Seagrass and reef surveys.")
    assert _found(query) == [title]


@pytest.mark.parametrize(("language", "title", "query"), NOT_FOUND)
def test_other_words_do_not_find_it(language, title, query):
    OfferFactory(title=title, language=language, description="")
    assert _found(query) == []


def test_a_posting_may_be_written_in_any_of_the_six_languages_or_another():
    for language in ("ar", "zh", "ru", OTHER_LANGUAGE):
        need = NeedFactory(language=language)
        need.full_clean()
    assert Need.objects.filter(language=OTHER_LANGUAGE).count() == 1


# --- The matcher's words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "name"), [("ar", "Arabic"), ("zh", "Chinese"), ("ru", "Russian")])
def test_the_explanations_name_the_shared_language(code, name):
    need = Posting(id="n", side=NEED, title="t", language=code)
    offer = Posting(id="o", side=OFFER, title="t", language="en", languages=frozenset({code}))
    _, reasons = features_and_reasons(
        need, offer, semantic=0.5, history=0.0, history_count=0, today=datetime.date(2026, 1, 1)
    )
    assert reasons["language"] == code
    assert f"both work in {name}" in summarise(reasons)
    with translation.override("en"):
        assert f"Both work in {name}" in reason_lines(reasons, {})
    for reader in ("ar", "zh-hans", "ru"):  # the language's name in the reader's language
        with translation.override(reader):
            translated = translation.gettext(name)
            assert translated != name and translated in " ".join(reason_lines(reasons, {})), reader


def test_two_texts_in_another_language_share_no_known_language():
    need = Posting(id="n", side=NEED, title="t", language=OTHER_LANGUAGE)
    offer = Posting(id="o", side=OFFER, title="t", language=OTHER_LANGUAGE)
    _, reasons = features_and_reasons(
        need, offer, semantic=0.5, history=0.0, history_count=0, today=datetime.date(2026, 1, 1)
    )
    assert "language" not in reasons and "no_common_language" not in reasons


# --- E-mails in the recipient's language ------------------------------------------------------------------

CONTEXT = {
    "title": "Train customs officers",
    "other_title": "Border biosecurity course",
    "other_poster": "ICBBT",
}


@pytest.mark.parametrize(("stored", "interface"), [("ar", "ar"), ("zh", "zh-hans"), ("ru", "ru")])
def test_an_email_goes_out_in_the_recipients_language_and_its_subject_encodes(
    stored, interface, django_capture_on_commit_callbacks
):
    user = UserFactory(preferred_language=stored)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.notify(
            kind=match_kinds.MATCH_INTRODUCED,
            event_key="match:1:introduced",
            recipients=[user],
            context=CONTEXT,
        )
    subject = kinds.get(match_kinds.MATCH_INTRODUCED).subject
    with translation.override(interface):
        expected = str(subject) % CONTEXT
    assert expected != str(subject) % CONTEXT  # a real translation exists
    (message,) = mail.outbox
    assert message.subject == expected
    raw = message.message().as_bytes()
    headers, _, body = raw.partition(b"\n\n")
    headers.decode("ascii")  # every header encoded (RFC 2047); the body is UTF-8
    assert b'charset="utf-8"' in headers
    parsed = email.message_from_bytes(raw)
    decoded = str(email.header.make_header(email.header.decode_header(parsed["Subject"])))
    assert decoded == expected
    with translation.override(interface):
        footer = translation.gettext("You receive this e-mail because you use the CHM Matchmaker.")
    assert footer in message.body and footer != "You receive this e-mail because you use the CHM Matchmaker."


def test_a_language_the_interface_lacks_reads_english():
    assert outbox.interface_language("zh") == "zh-hans"
    assert outbox.interface_language("pt") == "en"
    assert outbox.interface_language("ar") == "ar"
