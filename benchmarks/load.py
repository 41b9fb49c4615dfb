"""Load on the whole stack of one small server, each figure beside its target.

gunicorn (2 sync workers) serves the site from database ``chm_load`` of the embedded PostgreSQL (recreated
each run: migrations, then ``load_seed_data --demo``); a Celery worker (2 processes) takes its tasks from a
Redis server of this run's own (Debian's redis-server). Then, on loopback only:

1. 50 concurrent clients for 60 s (threads, urllib, a new connection per request: gunicorn's sync workers
   close each one), each picking at random among four groups: browsing the pages (``/needs/``,
   ``/offers/``, a second page), searching the pages (words, facets, and by meaning), the API's lists and
   the API's details. Per group: requests per second, p50/p95/p99 latency, errors (anything but a 200).
2. A burst of 200 needs published at once: 200 one-row imports (``/api/v1/import/``, status published, the
   demo secretariat's token) sent by 50 clients together; the time until the API accepted them all, and
   until the matcher had stored every one's suggestions (``matched_at`` set on its vector).

The clients run on the same 2 cores as the server, worker and database, so the figures are a floor. The
API's throttles and the posting rate limit are raised for the run (they would answer 429 to one address
sending this much), and connections are kept 60 s as in production (DJANGO_CONN_MAX_AGE).

Run: .venv/bin/python benchmarks/load.py [--clients 50] [--seconds 60] [--burst 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATABASE = "chm_load"

# Targets (a small server, 2 CPU cores, everything on one machine).
TARGET_P95_MS = 1000.0  # every group at 50 concurrent clients
TARGET_ERRORS = 0
TARGET_BURST_S = 300.0  # every posting of the burst has its suggestions before the next sweep (5 min)

GROUPS = {
    "browse (pages)": ["/needs/", "/offers/", "/needs/?page=2", "/offers/?page=2"],
    "search (pages)": [
        "/needs/?q=invasive",
        "/offers/?q=formation",
        "/needs/?q=coral&region=asia-pacific",
        "/offers/?subject=invasive-alien-species",
        "/needs/?q=training+customs+officers&by_meaning=1",
        "/offers/?q=restauraci%C3%B3n+de+manglares&by_meaning=1",
    ],
    "API lists": [
        "/api/v1/needs/",
        "/api/v1/offers/?page_size=20",
        "/api/v1/needs/?search=forest",
        "/api/v1/offers/?language=fr",
    ],
    "API details": [],  # filled with the published postings' ids
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise SystemExit(f"timed out waiting for {what}")


class Stack:
    """Redis, a Celery worker and gunicorn, each a process of this run, logs in a temporary folder."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="chm-load-"))
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("w")
        process = subprocess.Popen(  # noqa: S603 (our own fixed commands)
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(self.folder, ignore_errors=True)


def database_url() -> str:
    """Recreate the benchmark's database in the embedded PostgreSQL; its URL (connections kept 60 s)."""
    import psycopg2

    from config.embedded_postgres import database_settings

    settings = database_settings(name="postgres")
    connection = psycopg2.connect(dbname="postgres", user="postgres", host=settings["HOST"])
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    connection.close()
    return f"postgresql://postgres@/{DATABASE}?host={quote(settings['HOST'])}&conn_max_age=60"


def request(url: str, *, method: str = "GET", body: bytes | None = None, headers=None) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
        with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310 (http://127.0.0.1 only)
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except Exception:  # a timeout, a refused or reset connection: an error of the run, not a crash
        status = 0
    return status, (time.perf_counter() - started) * 1000


def run_load(base: str, clients: int, seconds: float) -> dict[str, dict]:
    results: dict[str, list[tuple[int, float]]] = {group: [] for group in GROUPS}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(seed: int) -> None:
        chooser = random.Random(seed)
        while time.monotonic() < deadline:
            group = chooser.choice(list(GROUPS))
            status, ms = request(base + chooser.choice(GROUPS[group]))
            with lock:
                results[group].append((status, ms))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    summary = {}
    for group, rows in results.items():
        latencies = sorted(ms for _status, ms in rows)
        cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
        summary[group] = {
            "requests": len(rows),
            "rate": len(rows) / elapsed,
            "p50": cuts[49],
            "p95": cuts[94],
            "p99": cuts[98],
            "errors": sum(1 for status, _ms in rows if status != 200),
        }
    return summary


def burst_rows(count: int, stamp: str) -> list[dict]:
    """Needs shaped like the demo's (their texts, Parties and facets), each with its own title and ref."""
    demo = json.loads((ROOT / "seed_data" / "demo_postings.json").read_text())["postings"]
    needs = [p for p in demo if p["kind"] == "need" and p.get("party")]
    expires = (date.today() + timedelta(days=90)).isoformat()
    rows = []
    for n in range(count):
        need = needs[n % len(needs)]
        rows.append(
            {
                "ref": f"load-{stamp}-{n}",
                "party": need["party"],
                "title": f"{need['title'][:180]} ({n})",
                "description": need["description"],
                "language": need["language"],
                "subjects": need.get("subjects") or [],
                "gbf_targets": need.get("gbf_targets") or [],
                "support_types": need.get("support_types") or [],
                "contact_name": need.get("contact_name") or "Load test",
                "contact_email": f"load{n}@load.example.org",
                "expires_on": expires,
            }
        )
    return rows


def run_burst(base: str, token: str, rows: list[dict], clients: int) -> dict:
    from marketplace.models import Need
    from matching.models import NeedEmbedding

    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    pending = list(rows)
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                if not pending:
                    return
                row = pending.pop()
            body = {
                "kind": "need",
                "format": "jsonl",
                "content": json.dumps(row),
                "dry_run": False,
                "status": "published",
            }
            status, _ms = request(
                base + "/api/v1/import/", method="POST", body=json.dumps(body).encode(), headers=headers
            )
            with lock:
                statuses.append(status)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = time.monotonic() - started
    refs = [row["ref"] for row in rows]
    ids = list(Need.objects.filter(source_ref__in=refs).values_list("pk", flat=True))
    matched = 0
    while time.monotonic() - started < 3 * TARGET_BURST_S:
        matched = NeedEmbedding.objects.filter(need_id__in=ids, matched_at__isnull=False).count()
        if matched == len(ids):
            break
        time.sleep(0.5)
    everything = time.monotonic() - started
    with_suggestions = Need.objects.filter(pk__in=ids, matches__isnull=False).distinct().count()
    return {
        "sent": len(rows),
        "created": len(ids),
        "errors": sum(1 for status in statuses if status != 201),
        "accepted_s": accepted,
        "matched": matched,
        "with_suggestions": with_suggestions,
        "all_matched_s": everything if matched == len(ids) else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise SystemExit("redis-server is needed: apt-get install redis-server")

    url = database_url()
    redis_port, web_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "False",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "API_THROTTLE_ANON": "1000000/minute",
        "API_THROTTLE_USER": "1000000/minute",
        "POSTING_RATE_LIMIT": "1000000/hour",
    }
    os.environ.update(env)
    stack = Stack()
    try:
        print("Preparing: migrations and demo data into database chm_load ...", flush=True)
        setup_env = {**env, "CELERY_BROKER_URL": ""}  # the demo's matching runs in-process while loading
        for command in (["migrate", "--no-input", "-v0"], ["load_seed_data", "--demo"]):
            subprocess.run(  # noqa: S603 (our own fixed commands)
                [str(BIN / "python"), "manage.py", *command],
                cwd=ROOT,
                env=setup_env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        stack.start("redis", [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""])
        stack.start("worker", [str(BIN / "celery"), "-A", "config", "worker", "-l", "INFO", "-c", "2"], env)
        stack.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{web_port}",
                "--timeout",
                "120",
            ],
            env,
        )
        base = f"http://127.0.0.1:{web_port}"
        wait_for(lambda: request(base + "/api/v1/parties/")[0] == 200, timeout=120, what="gunicorn")

        import django

        django.setup()
        from marketplace import services
        from marketplace.models import Need, Offer, PostingStatus, User
        from matching.tasks import match_posting

        published = {
            "need": list(Need.objects.filter(status=PostingStatus.PUBLISHED).values_list("pk", flat=True)),
            "offer": list(Offer.objects.filter(status=PostingStatus.PUBLISHED).values_list("pk", flat=True)),
        }
        GROUPS["API details"] = [f"/api/v1/{kind}s/{pk}/" for kind, ids in published.items() for pk in ids]
        # Warm up: each gunicorn worker and each Celery process loads the model on its first use.
        warm = [base + path for path in GROUPS["search (pages)"] if "by_meaning" in path] * 4
        threads = [threading.Thread(target=request, args=(u,)) for u in warm]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for pk in published["need"][:4]:
            match_posting.delay("need", pk)
        wait_for(
            lambda: (
                len(re.findall(r"match_posting\[\S+\] succeeded", (stack.folder / "worker.log").read_text()))
                >= 4
            ),
            timeout=300,
            what="the worker's warm-up",
        )

        print(f"Load: {args.clients} clients for {args.seconds:.0f} s ...", flush=True)
        load = run_load(base, args.clients, args.seconds)
        secretariat = User.objects.get(email="secretariat@demo.example.org")
        _token, key = services.api_token_create(user=secretariat, name="load benchmark", expires_in_days=1)
        print(f"Burst: {args.burst} needs published at once ...", flush=True)
        burst = run_burst(base, key, burst_rows(args.burst, datetime.now().strftime("%H%M%S")), args.clients)
    finally:
        stack.stop()

    print()
    print("Load on one small server")
    print("========================")
    print(f"date:     {datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine:  {os.cpu_count()} CPU cores (clients, gunicorn -w 2, Celery -c 2, PostgreSQL, Redis)")
    print(
        f"data:     demo ({len(published['need'])} published needs, {len(published['offer'])} offers); "
        f"{args.clients} clients, {args.seconds:.0f} s"
    )
    title = "1. Browse, search and API at once"
    print(f"\n{title}\n{'-' * len(title)}")
    header = ["group", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "target"]
    rows = [
        [
            group,
            str(r["requests"]),
            f"{r['rate']:.1f}",
            f"{r['p50']:.0f}",
            f"{r['p95']:.0f}",
            f"{r['p99']:.0f}",
            str(r["errors"]),
            f"p95 <= {TARGET_P95_MS:.0f}, errors {TARGET_ERRORS}",
        ]
        for group, r in load.items()
    ]
    total = sum(r["requests"] for r in load.values())
    rows.append(["all", str(total), f"{sum(r['rate'] for r in load.values()):.1f}", "", "", "", "", ""])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    title = f"2. Burst of {args.burst} needs published at once"
    print(f"\n{title}\n{'-' * len(title)}")
    all_matched = f"{burst['all_matched_s']:.1f} s" if burst["all_matched_s"] is not None else "not reached"
    print(f"accepted by the API:          {burst['accepted_s']:.1f} s ({burst['errors']} errors)")
    print(f"every posting matched:        {all_matched}   target <= {TARGET_BURST_S:.0f} s")
    print(
        f"postings matched / created:   {burst['matched']} / {burst['created']} "
        f"({burst['with_suggestions']} with at least one suggestion)"
    )
    missed = [g for g, r in load.items() if r["p95"] > TARGET_P95_MS or r["errors"] > TARGET_ERRORS]
    if burst["all_matched_s"] is None or burst["all_matched_s"] > TARGET_BURST_S:
        missed.append("burst")
    print(f"\nMISSED: {', '.join(missed)}" if missed else "\nEvery target met.")


if __name__ == "__main__":
    main()
