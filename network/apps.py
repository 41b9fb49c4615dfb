from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "network"
    verbose_name = "Network of clearing-houses"

    def ready(self) -> None:
        from . import notification_kinds  # noqa: F401  (registers what the network tells partners)
