"""gunicorn's settings for the site: gunicorn reads this file from its working directory (the image's /app,
the repository), whatever the command line (docker-compose.yml, Dockerfile) says besides."""

import threading


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
