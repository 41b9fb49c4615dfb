from django.apps import AppConfig


class MentoringConfig(AppConfig):
    name = "mentoring"
    verbose_name = "Mentoring programme"

    def ready(self) -> None:
        from . import notification_kinds  # noqa: F401  (registers what the programme tells people)
