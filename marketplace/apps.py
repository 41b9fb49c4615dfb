from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"

    def ready(self) -> None:
        from config import read_only

        from . import notification_kinds  # noqa: F401  (registers what the marketplace tells posters)

        read_only.connect_signals()  # a mirror (read-only mode) records no last login
