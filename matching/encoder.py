"""The configured sentence encoder, loaded once per process: what embeds postings (services), search queries
(selectors) and mentoring texts (the mentoring app)."""

import logging
import time
from pathlib import Path

from django.conf import settings

from matching.engine.encoder import Encoder, load_encoder

logger = logging.getLogger(__name__)


def encoder() -> Encoder:
    """The configured model, loaded once per process."""
    cache_dir = Path(settings.MATCHING_CACHE_DIR) if settings.MATCHING_CACHE_DIR else None
    return load_encoder(settings.MATCHING_MODEL, cache_dir=cache_dir, precision=settings.MATCHING_PRECISION)


def limit_web_threads() -> None:
    """Give a web worker's torch MATCHING_WEB_THREADS threads (see the setting), before it encodes."""
    import torch

    torch.set_num_threads(settings.MATCHING_WEB_THREADS)


def encoder_preload() -> None:
    """With MATCHING_PRELOAD_ENCODER, load the model (and encode once) now, as a web or Celery worker process
    starts (gunicorn.conf.py, config/celery_app.py), so that no visitor's search by meaning and no first
    publication waits for it. A model that fails to load is logged, not fatal: the process serves, and the
    next encoding tries again."""
    if not settings.MATCHING_PRELOAD_ENCODER:
        return
    started = time.monotonic()
    try:
        model = encoder()
        model.encode(["warm-up"])
    except Exception:
        logger.exception("Could not preload the encoder %s", settings.MATCHING_MODEL)
        return
    logger.info("Encoder %s loaded in %.1f s", model.name, time.monotonic() - started)
