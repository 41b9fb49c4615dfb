"""The keyword baseline: TF-IDF over words with accents folded, as most matching platforms do it."""

from __future__ import annotations

import unicodedata

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def tfidf_similarities(queries: list[str], documents: list[str]) -> np.ndarray:
    """Cosine similarities, one row per query, over a vocabulary fitted on both sides."""
    vectorizer = TfidfVectorizer(preprocessor=_fold, sublinear_tf=True)
    vectorizer.fit(queries + documents)
    return (vectorizer.transform(queries) @ vectorizer.transform(documents).T).toarray()


def character_similarities(queries: list[str], documents: list[str]) -> np.ndarray:
    """Cosine similarities over character 2- to 4-grams within words: names, acronyms and numbers that
    carry across languages written in the same script."""
    vectorizer = TfidfVectorizer(
        preprocessor=_fold, analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True
    )
    vectorizer.fit(queries + documents)
    return (vectorizer.transform(queries) @ vectorizer.transform(documents).T).toarray()
