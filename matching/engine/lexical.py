"""The keyword baseline: TF-IDF over words with accents folded, as most matching platforms do it."""

from __future__ import annotations

import unicodedata

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def tfidf_similarities(queries: list[str], documents: list[str]) -> NDArray[np.float64]:
    """Cosine similarities, one row per query, over a vocabulary fitted on both sides."""
    vectorizer = TfidfVectorizer(preprocessor=_fold, sublinear_tf=True)
    vectorizer.fit(queries + documents)
    # scikit-learn has no types: name what its sparse product gives back (a dense float64 array).
    similarities: NDArray[np.float64] = (
        vectorizer.transform(queries) @ vectorizer.transform(documents).T
    ).toarray()
    return similarities


def character_similarities(queries: list[str], documents: list[str]) -> NDArray[np.float64]:
    """Cosine similarities over character 2- to 4-grams within words: names, acronyms and numbers that
    carry across languages written in the same script."""
    vectorizer = TfidfVectorizer(
        preprocessor=_fold, analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True
    )
    vectorizer.fit(queries + documents)
    # scikit-learn has no types: name what its sparse product gives back (a dense float64 array).
    similarities: NDArray[np.float64] = (
        vectorizer.transform(queries) @ vectorizer.transform(documents).T
    ).toarray()
    return similarities
