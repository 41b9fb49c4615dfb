from django.apps import AppConfig


class SeedDataConfig(AppConfig):
    """The reference data (Parties, vocabulary) and the demo, loaded through every app's services."""

    name = "seed_data"
    verbose_name = "Seed data"
