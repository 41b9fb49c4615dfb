from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self) -> None:
        from marketplace import posting_events

        from . import notification_kinds, tasks  # noqa: F401  (registers what matching tells people)

        posting_events.subscribe(tasks.on_posting_saved)
