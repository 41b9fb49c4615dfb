from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from matching import suggestions
from seed_data import loader


class Command(BaseCommand):
    help = (
        "Load the vocabulary and the Parties (and, with --demo, demo accounts, postings, matches and "
        "mentoring). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="Also load demo accounts and postings.")

    def handle(self, *args, demo: bool, **options):
        self._report("Parties and subregions", loader.load_parties())
        self._report("Vocabulary", loader.load_vocabulary())
        if not demo:
            return
        if not settings.DEMO_DATA_ALLOWED:  # the demo secretariat's password is in the repository
            raise CommandError(
                "--demo loads accounts with published passwords: only with local or test settings."
            )
        # The demo's addresses are fictitious: its e-mails stay out of the console (they are in the inboxes).
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            logins = self._load_demo()
        if settings.SHOW_DEMO_LOGINS:
            self.stdout.write(
                self.style.SUCCESS(f"\nDemo logins (password for all: {loader.DEMO_PASSWORD}):")
            )
            for email, roles in logins:
                self.stdout.write(f"  {email:<45} {roles}")

    def _load_demo(self) -> list[tuple[str, str]]:
        accounts, logins = loader.load_demo_accounts()
        self._report("Demo accounts", accounts)
        postings = loader.load_demo_postings()
        self._report("Demo postings", postings)
        if postings["created"]:
            # Each posting was matched as it was published, against those published before it; match
            # them all again now that both sides are complete.
            result = suggestions.postings_rematch()
            self.stdout.write(f"Match suggestions: {len(result.created)} new, {result.updated} rescored")
            self._report("Demo activity", loader.load_demo_activity())
        return logins

    def _report(self, what: str, counts) -> None:
        summary = (
            ", ".join(f"{count} {key}" for key, count in sorted(counts.items()) if count) or "nothing to do"
        )
        self.stdout.write(f"{what}: {summary}")
