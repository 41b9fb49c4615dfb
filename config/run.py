"""`make run`: the whole product as one command — the web server, a Celery worker and Celery beat — with
their logs prefixed by name, all stopped together.

    python -m config.run [--port 8000]

Ctrl-C or SIGTERM stops every process (SIGKILL after a grace period); if one process dies, the others are
stopped too. Each child is also told by the kernel to stop if this supervisor is killed outright (SIGKILL),
so nothing is left behind holding the port. A small supervisor rather than a Procfile runner (honcho):
the runners cannot ask the kernel for that, and it is the case that breaks the next start.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from config import embedded_valkey

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 10
PR_SET_PDEATHSIG = 1
COLOURS = ("\033[36m", "\033[33m", "\033[35m")


def commands(port: int) -> dict[str, list[str]]:
    python, celery = sys.executable, str(Path(sys.executable).with_name("celery"))
    embedded_valkey.DATA_DIR.mkdir(mode=0o700, exist_ok=True)
    beat_schedule = embedded_valkey.DATA_DIR / "beat-schedule"
    return {
        # No autoreloader: its parent process would survive a kill of its child server, or the reverse.
        "web": [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        "worker": [celery, "-A", "config", "worker", "--loglevel", "INFO", "--pool", "solo"],
        "beat": [celery, "-A", "config", "beat", "--loglevel", "INFO", "--schedule", str(beat_schedule)],
    }


def _stop_with_parent() -> None:
    """Runs in each child before exec: SIGTERM when the supervisor dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the supervisor died before the request took effect
        os._exit(1)


def _relay(name: str, colour: str, stream, width: int) -> None:
    prefix = f"{colour}{name:<{width}} |\033[0m " if sys.stdout.isatty() else f"{name:<{width}} | "
    for line in iter(stream.readline, b""):
        sys.stdout.write(prefix + line.decode("utf-8", "replace"))
        sys.stdout.flush()


def prepare() -> None:
    """Start the embedded database and broker once, before three processes would race to."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django
    from django.conf import settings

    django.setup()
    broker = settings.CELERY_BROKER_URL or "none: tasks run in the web process"
    print(f"database: {settings.DATABASES['default']['NAME']}; broker: {broker}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args()
    prepare()
    # As deployed: the worker loads the model as it starts, not at the first publication (celery_app.py).
    environment = {"MATCHING_PRELOAD_ENCODER": "true", **os.environ, "PYTHONUNBUFFERED": "1"}
    processes: dict[str, subprocess.Popen] = {}
    for name, command in commands(args.port).items():
        processes[name] = subprocess.Popen(  # noqa: S603 (our own commands)
            command,
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_stop_with_parent,  # noqa: PLW1509 (no thread exists yet: relays start below)
        )
    width = max(map(len, processes))
    relays = [
        threading.Thread(target=_relay, args=(name, COLOURS[i % 3], process.stdout, width), daemon=True)
        for i, (name, process) in enumerate(processes.items())
    ]
    for relay in relays:
        relay.start()
    print(f"CHM Matchmaker: http://127.0.0.1:{args.port}/ (Ctrl-C stops everything)", flush=True)

    stopping = threading.Event()

    def on_signal(signum, _frame) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopping.is_set() and all(p.poll() is None for p in processes.values()):
        stopping.wait(0.2)
    dead = [name for name, p in processes.items() if p.poll() is not None]
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for relay in relays:
        relay.join(timeout=1)
    if dead and not stopping.is_set():
        print(f"stopped: {', '.join(dead)} exited", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
