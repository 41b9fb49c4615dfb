"""The six UN languages: Arabic, Chinese and Russian labels of the vocabulary and the subregions, and
names of the Parties (blank until seed_data loads them: the English one is shown then); a posting's language
may also be "und" (another language), so its column takes 3 letters.

Search by words (see 0003_stemmed_search): each posting is stemmed with the PostgreSQL text-search
configuration of its language, `SEARCH_CONFIGS`, the one map from a posting's language to a configuration
(the functions below are generated from it); `simple`, word for word, where PostgreSQL has no stemmer:
Chinese and another language. Chinese is written without spaces: each Han character is indexed as a word,
and a query's run of Han characters is read as a phrase of them, so that "湿地" finds "滨海湿地保护"
but not "地湿". A query is read in every configuration of the map, OR-ed. The GIN indexes are rebuilt on
the new function."""

from django.db import migrations, models

PREVIOUS = __import__("marketplace.migrations.0003_stemmed_search", fromlist=["FUNCTIONS"])
ACCENTED, PLAIN = PREVIOUS.ACCENTED, PREVIOUS.PLAIN

# A posting's language (marketplace.models.Language, and "und") -> its text-search configuration.
SEARCH_CONFIGS = {
    "en": "english",
    "fr": "french",
    "es": "spanish",
    "pt": "portuguese",
    "ar": "arabic",
    "ru": "russian",
    "zh": "simple",
    "und": "simple",
}
OTHERWISE = "simple"

# Han characters (CJK Unified Ideographs and extension A), each made a word of its own.
HAN = "[\u3400-\u4dbf\u4e00-\u9fff]"

_CASE = " ".join(f"WHEN '{code}' THEN '{config}'" for code, config in SEARCH_CONFIGS.items())
_QUERIES = "\n        || ".join(
    f"marketplace_fold_query(websearch_to_tsquery('{config}', words))\n"
    f"        || websearch_to_tsquery('{config}', marketplace_fold(words))"
    for config in dict.fromkeys(SEARCH_CONFIGS.values())
)

FUNCTIONS = f"""
-- Only built-in functions in the vector (see 0003): PostgreSQL builds and restores an index with search_path
-- set to pg_catalog alone.
CREATE OR REPLACE FUNCTION marketplace_search_vector(language text, title text, description text)
    RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10000
    AS $$
    SELECT translate(to_tsvector(config, body)::text, '{ACCENTED}', '{PLAIN}')::tsvector
        || to_tsvector(config, translate(body, '{ACCENTED}', '{PLAIN}'))
    FROM (SELECT (CASE language {_CASE} ELSE '{OTHERWISE}' END)::regconfig AS config,
                 regexp_replace(coalesce(title, '') || E'\\n' || coalesce(description, ''),
                                '({HAN})', ' \\1 ', 'g') AS body) AS posting
    $$;

-- the words typed (web search syntax), in every configuration, OR-ed; a run of Han characters as a phrase
CREATE OR REPLACE FUNCTION marketplace_search_query(text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    SELECT {_QUERIES}
    FROM (SELECT regexp_replace(regexp_replace($1, '({HAN}+)', ' "\\1" ', 'g'), '({HAN})', ' \\1 ', 'g')
                 AS words) AS query
    $$;
"""  # noqa: S608 -- constants of this file, no input

PREVIOUS_FUNCTIONS = f"""
DROP FUNCTION IF EXISTS marketplace_search_query(text);
DROP FUNCTION IF EXISTS marketplace_search_vector(text, text, text);
DROP FUNCTION IF EXISTS marketplace_fold_query(tsquery);
DROP FUNCTION IF EXISTS marketplace_fold(text);
{PREVIOUS.FUNCTIONS}
"""

INDEXES = "\n".join(
    f"CREATE INDEX {table}_search ON {table} "
    "USING gin (marketplace_search_vector(language, title, description));"
    for table in ("marketplace_need", "marketplace_offer")
)
DROP_INDEXES = "DROP INDEX IF EXISTS marketplace_need_search; DROP INDEX IF EXISTS marketplace_offer_search;"


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0003_stemmed_search"),
    ]

    operations = [
        # the index's expression reads the language column: dropped before the column changes
        migrations.RunSQL(
            DROP_INDEXES,
            reverse_sql=INDEXES,
        ),
        migrations.AddField(
            model_name="party",
            name="name_ar",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name="party",
            name="name_ru",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name="party",
            name="name_zh",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name="subregion",
            name="label_ar",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="subregion",
            name="label_ru",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="subregion",
            name="label_zh",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="term",
            name="label_ar",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="term",
            name="label_ru",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="term",
            name="label_zh",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="need",
            name="language",
            field=models.CharField(
                choices=[
                    ("en", "English"),
                    ("fr", "French"),
                    ("es", "Spanish"),
                    ("pt", "Portuguese"),
                    ("ar", "Arabic"),
                    ("ru", "Russian"),
                    ("zh", "Chinese"),
                    ("und", "Another language"),
                ],
                max_length=3,
                verbose_name="language of the text",
            ),
        ),
        migrations.AlterField(
            model_name="offer",
            name="language",
            field=models.CharField(
                choices=[
                    ("en", "English"),
                    ("fr", "French"),
                    ("es", "Spanish"),
                    ("pt", "Portuguese"),
                    ("ar", "Arabic"),
                    ("ru", "Russian"),
                    ("zh", "Chinese"),
                    ("und", "Another language"),
                ],
                max_length=3,
                verbose_name="language of the text",
            ),
        ),
        migrations.RunSQL(FUNCTIONS, reverse_sql=PREVIOUS_FUNCTIONS),
        migrations.RunSQL(INDEXES, reverse_sql=DROP_INDEXES),
    ]
