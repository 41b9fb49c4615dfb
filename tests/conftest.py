import pytest

from seed_data import loader


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Parties and the vocabulary are reference data every test relies on: load them once."""
    with django_db_blocker.unblock():
        loader.load_parties()
        loader.load_vocabulary()


@pytest.fixture
def secretariat(db):
    from tests.factories import SecretariatFactory

    return SecretariatFactory()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
