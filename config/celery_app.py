import functools
import logging
import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from celery.signals import worker_init, worker_process_init
from kombu.exceptions import OperationalError as BrokerUnreachable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

logger = logging.getLogger(__name__)


class Task(DjangoTask):
    """`delay_on_commit` that survives an unreachable broker: the write has committed by then, so the
    caller must still get its answer. Periodic sweeps find the lost task again: pending e-mails
    (notifications.tasks.requeue_pending_notifications), unmatched postings
    (matching.tasks.match_pending_postings)."""

    # The stub says AsyncResult; Celery's own DjangoTask.delay_on_commit returns None too (nothing is sent
    # before the commit).
    def delay_on_commit(self, *args, **kwargs) -> None:  # type: ignore[override]
        from django.db import transaction

        transaction.on_commit(functools.partial(self._delay_or_log, args, kwargs))

    def before_start(self, task_id, args, kwargs) -> None:
        """A mirror (read-only mode, config/read_only.py) writes nothing: every task is skipped, beat's
        included; once the standby is promoted, the periodic sweeps find what was left undone."""
        from celery.exceptions import Ignore

        from config import read_only

        if read_only.active():
            logger.warning("Read-only mode (a mirror): %s[%s] skipped", self.name, task_id)
            raise Ignore()

    def _delay_or_log(self, args, kwargs) -> None:
        try:
            self.delay(*args, **kwargs)
        except BrokerUnreachable:
            logger.exception(
                "Broker unreachable: %s%r not queued; the periodic sweep will queue it", self.name, args
            )


app = Celery("chm_matchmaker", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


_torch_threads = 0  # set by the worker before it forks its processes, applied by each of them


@worker_init.connect
def _share_the_cores(sender, **_kwargs) -> None:
    """Each worker process's torch gets its share of the cores (the worker's concurrency, `-c`): torch's
    default, a thread per core in every process, makes the processes' threads spin against each other
    while they encode batches at once. Process set-up, not a business rule."""
    global _torch_threads
    concurrency = sender.concurrency if isinstance(sender.concurrency, int) else os.cpu_count() or 1
    _torch_threads = max(1, (os.cpu_count() or 1) // max(1, concurrency))


@worker_process_init.connect
def _prepare_the_encoder(**_kwargs) -> None:
    """Each worker process: its share of torch's threads, and, with MATCHING_PRELOAD_ENCODER (production,
    and `make run`), the model loaded before the first task (a publication's matching would otherwise wait
    for the load: 10.2 s from approval to suggestions on the first publication after `make run` started,
    1.1 s on the next ones; benchmarks/publish_to_suggestions)."""
    if _torch_threads:
        import torch

        torch.set_num_threads(_torch_threads)
    from matching.encoder import encoder_preload

    encoder_preload()
