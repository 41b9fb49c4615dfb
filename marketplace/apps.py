from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"

    def ready(self):
        from config import read_only

        read_only.connect_signals()  # a mirror (read-only mode) records no last login
