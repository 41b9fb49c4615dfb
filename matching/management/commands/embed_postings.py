from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from matching import encoder, suggestions


class Command(BaseCommand):
    help = (
        "Embed every posting whose text or model changed (all of them with --force), "
        "then match every open posting again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--force", action="store_true", help="Re-embed every posting, changed or not.")
        parser.add_argument(
            "--no-match", action="store_true", help="Only embed; leave suggestions as they are."
        )

    def handle(self, *args: Any, force: bool, no_match: bool, **options: Any) -> None:
        model = encoder.encoder()
        self.stdout.write(f"Model: {model.name} ({model.version}, {model.dimensions} dimensions)")
        counts = suggestions.postings_reembed(
            force=force, progress=lambda items: tqdm(items, desc="Embedding")
        )
        self.stdout.write(f"Embeddings: {counts['embedded']} computed, {counts['unchanged']} unchanged")
        if no_match:
            return
        result = suggestions.postings_rematch(progress=lambda items: tqdm(items, desc="Matching"))
        self.stdout.write(
            f"Suggestions: {len(result.created)} new, {result.updated} rescored, {result.removed} removed"
        )
