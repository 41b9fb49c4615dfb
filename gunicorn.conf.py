"""gunicorn's settings for the site: gunicorn reads this file from its working directory (the image's /app,
the repository), whatever the command line (docker-compose.yml, Dockerfile) says besides."""

import os
import threading

# Chosen by measurement (benchmarks/load.py, 20 s per group, on 2 cores): 2 sync workers served pages and the
# API as fast as 3 or 4 and searched by meaning fastest (p95 279 ms; 319 ms with 3, 326 ms with 4); gthread
# (2 workers x 4 threads) was slower everywhere (p95 browse 272 ms, search by meaning 552 ms). So one sync
# worker per core, unless WEB_WORKERS says otherwise.
workers = int(os.environ.get("WEB_WORKERS") or os.cpu_count() or 2)
worker_class = "sync"


def post_worker_init(worker):
    """With MATCHING_PRELOAD_ENCODER (production), each worker loads the model before it serves anyone, so
    that no search by meaning waits for it. Loading takes tens of seconds when several workers start on few
    cores: the worker tells the arbiter it is alive meanwhile, or the worker timeout would kill it."""
    from matching.encoder import encoder_preload, limit_web_threads  # the application is loaded

    limit_web_threads()

    loaded = threading.Event()

    def heartbeat():
        while not loaded.wait(1.0):
            worker.notify()

    threading.Thread(target=heartbeat, name="preload-heartbeat", daemon=True).start()
    try:
        encoder_preload()
    finally:
        loaded.set()
