"""The Parties' names in Arabic, Chinese and Russian, from the Unicode CLDR (through Babel), written into
`parties.json`:

    .venv/bin/python -m seed_data.cldr_names

English, French and Spanish stay as they are in the file: they are the UN's official short names ("Republic
of Korea", "Viet Nam"), which CLDR does not use ("South Korea", "Vietnam"). For the same Parties CLDR's
Arabic, Chinese and Russian names are everyday ones too ("Congo - Kinshasa", "Russia", "Palestinian
Territories"); `UN_NAMES` gives the UN's official short names for those few, and every other name is CLDR's
as it stands. `tests/unit/test_six_languages_data.py` checks that the file says what this module computes.
"""

import json
from pathlib import Path

from babel import Locale

PARTIES_FILE = Path(__file__).resolve().parent / "parties.json"

# The file's language codes and Babel's locales for them (Chinese: simplified).
CLDR_LOCALES = {"ar": "ar", "zh": "zh_Hans", "ru": "ru"}

# The UN's official short names (UNTERM) where CLDR's name is an everyday one.
UN_NAMES: dict[str, dict[str, str]] = {
    "BN": {"ar": "بروني دار السلام", "zh": "文莱达鲁萨兰国", "ru": "Бруней-Даруссалам"},
    "CD": {
        "ar": "جمهورية الكونغو الديمقراطية",
        "zh": "刚果民主共和国",
        "ru": "Демократическая Республика Конго",
    },
    "CG": {"ar": "الكونغو", "zh": "刚果", "ru": "Конго"},
    "CI": {"ar": "كوت ديفوار", "zh": "科特迪瓦", "ru": "Кот-д'Ивуар"},
    "CV": {"ar": "كابو فيردي", "zh": "佛得角", "ru": "Кабо-Верде"},
    "KP": {
        "ar": "جمهورية كوريا الشعبية الديمقراطية",
        "zh": "朝鲜民主主义人民共和国",
        "ru": "Корейская Народно-Демократическая Республика",
    },
    "KR": {"ar": "جمهورية كوريا", "zh": "大韩民国", "ru": "Республика Корея"},
    "LA": {
        "ar": "جمهورية لاو الديمقراطية الشعبية",
        "zh": "老挝人民民主共和国",
        "ru": "Лаосская Народно-Демократическая Республика",
    },
    "MD": {"ar": "جمهورية مولدوفا", "zh": "摩尔多瓦共和国", "ru": "Республика Молдова"},
    "MM": {"ar": "ميانمار", "zh": "缅甸", "ru": "Мьянма"},
    "PS": {"ar": "دولة فلسطين", "zh": "巴勒斯坦国", "ru": "Государство Палестина"},
    "RU": {"ar": "الاتحاد الروسي", "zh": "俄罗斯联邦", "ru": "Российская Федерация"},
    "SY": {
        "ar": "الجمهورية العربية السورية",
        "zh": "阿拉伯叙利亚共和国",
        "ru": "Сирийская Арабская Республика",
    },
    "TZ": {
        "ar": "جمهورية تنزانيا المتحدة",
        "zh": "坦桑尼亚联合共和国",
        "ru": "Объединенная Республика Танзания",
    },
    "VN": {"ar": "فييت نام", "zh": "越南", "ru": "Вьетнам"},
    # CLDR's Russian abbreviates "острова" (islands) as "о-ва"
    "CK": {"ru": "Острова Кука"},
    "MH": {"ru": "Маршалловы Острова"},
    "SB": {"ru": "Соломоновы Острова"},
    "SC": {"ru": "Сейшельские Острова"},
}


def party_names(code: str) -> dict[str, str]:
    """A Party's name in Arabic, Chinese and Russian (by ISO code; "EU": the European Union)."""
    names = {}
    for language, locale in CLDR_LOCALES.items():
        names[language] = UN_NAMES.get(code, {}).get(language) or Locale.parse(locale).territories[code]
    return names


def parties_with_cldr_names(data: dict) -> dict:
    """`parties.json`'s content with every Party's ar/zh/ru names set from CLDR (the rest unchanged)."""
    for party in data["parties"]:
        party["names"] = {**{k: party["names"][k] for k in ("en", "fr", "es")}, **party_names(party["code"])}
    return data


def main() -> None:
    data = json.loads(PARTIES_FILE.read_text(encoding="utf-8"))
    text = json.dumps(parties_with_cldr_names(data), ensure_ascii=False, indent=2) + "\n"
    PARTIES_FILE.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
