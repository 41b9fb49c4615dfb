"""The public catalogue's generation: a token in the shared cache that names the current state of what
anonymous readers see (pages, open data). What is cached for them is keyed by it (see
`config.public_cache`), so changing the token retires every such entry at once.

The posting services change it explicitly (`catalogue_changed`, never from a signal) whenever a posting is
created, edited, published or closed; it also lapses by itself after PUBLIC_CACHE_SECONDS, which bounds
how long anything else shown on those pages (an organization's name, a match a curator dismissed) can lag.
"""

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "catalogue:generation"


def catalogue_generation() -> str:
    """The current generation (a random token: a restarted or emptied cache never brings an old one back)."""
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, settings.PUBLIC_CACHE_SECONDS or None)
        generation = cache.get(GENERATION_KEY)  # another process may have added its own first
    return generation or "none"


def _new_generation() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, settings.PUBLIC_CACHE_SECONDS or None)


def catalogue_changed() -> None:
    """Retire what was cached for anonymous readers: now, and again once the current transaction commits
    (a page read between the change and the commit still shows the old state; it must not be kept)."""
    _new_generation()
    transaction.on_commit(_new_generation)
