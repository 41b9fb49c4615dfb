"""Word search with stemming: each posting's title and description stemmed in its own language (French,
Spanish, English), with and without accents, and a GIN index on that vector so that the search reads the
index instead of every posting. `marketplace.selectors.full_text` calls the same functions; the index is
used only when the query's expression is the indexed one,
`marketplace_search_vector(language, title, description)`.

Accents are folded with translate() (no unaccent extension: any PostgreSQL with the stock text-search
configurations will do). A word is indexed twice: stemmed as written, then folded ("capacitación" ->
"capacit"), and folded, then stemmed ("diversité" -> "diversite" -> "diversit"): Snowball's stemmers know
their language's accented suffixes, and a query typed without accents finds the second form."""

from django.db import migrations

# The accented Latin letters of U+00C0-U+017F that decompose to one plain letter, and those letters (as
# `marketplace.selectors.strip_accents` folds them), frozen here.
ACCENTED = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļ"
    "ĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſ"
)
PLAIN = (
    "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLl"
    "LlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzs"
)
assert len(ACCENTED) == len(PLAIN) == 162

FUNCTIONS = f"""
CREATE FUNCTION marketplace_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT translate($1, '{ACCENTED}', '{PLAIN}') $$;

-- what the index holds: the text stemmed, then folded, and folded, then stemmed. Only built-in functions
-- here: PostgreSQL builds and restores an index with search_path set to pg_catalog alone.
-- Its cost (0.6 ms a posting, against 0.0025 for the default 100 units of a plain operator) tells the
-- planner to read the index rather than compute it for every row: without it, a seq scan on 520 offers took
-- 300 ms.
CREATE FUNCTION marketplace_search_vector(language text, title text, description text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10000
    AS $$
    SELECT translate(to_tsvector(config, body)::text, '{ACCENTED}', '{PLAIN}')::tsvector
        || to_tsvector(config, translate(body, '{ACCENTED}', '{PLAIN}'))
    FROM (SELECT (CASE language WHEN 'fr' THEN 'french' WHEN 'es' THEN 'spanish' ELSE 'english' END)
                     ::regconfig AS config,
                 coalesce(title, '') || E'\\n' || coalesce(description, '') AS body) AS posting
    $$;

-- a query folded after stemming (a query without lexemes, only stop words, is left as it is)
CREATE FUNCTION marketplace_fold_query(tsquery) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE WHEN numnode($1) = 0 THEN $1 ELSE marketplace_fold($1::text)::tsquery END $$;

-- the words typed (web search syntax), in each of the three languages' configurations, OR-ed
CREATE FUNCTION marketplace_search_query(text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
    SELECT marketplace_fold_query(websearch_to_tsquery('english', $1))
        || websearch_to_tsquery('english', marketplace_fold($1))
        || marketplace_fold_query(websearch_to_tsquery('french', $1))
        || websearch_to_tsquery('french', marketplace_fold($1))
        || marketplace_fold_query(websearch_to_tsquery('spanish', $1))
        || websearch_to_tsquery('spanish', marketplace_fold($1))
    $$;
"""  # noqa: S608 -- two constants of this file, no input

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS marketplace_search_query(text);
DROP FUNCTION IF EXISTS marketplace_fold_query(tsquery);
DROP FUNCTION IF EXISTS marketplace_search_vector(text, text, text);
DROP FUNCTION IF EXISTS marketplace_fold(text);
"""


def index(table: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f"CREATE INDEX {table}_search ON {table} "
        "USING gin (marketplace_search_vector(language, title, description))",
        reverse_sql=f"DROP INDEX IF EXISTS {table}_search",
    )


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0002_drop_unused_knox_table")]

    operations = [
        migrations.RunSQL(FUNCTIONS, reverse_sql=DROP_FUNCTIONS),
        index("marketplace_need"),
        index("marketplace_offer"),
    ]
