"""``implicitbias serve`` under load: latency of pages, the runs listing and max-margin solves.

The server runs as the command a user types (``implicitbias serve --port 0 --runs DIR``), in
its own process, over a runs folder of synthetic run folders. ``--clients`` threads (default
20) each send ``--requests`` requests (default 50), one new connection per request as a page
load would: half of them page and asset GETs, 30 % ``GET /api/runs``, 20 %
``POST /api/max-margin`` with a small separable problem (8 to 20 points in the plane).

Every answer must be a 200, except the documented 503 (``Retry-After``) of a saturated
solver or of the handler-thread cap, which is counted, not an error; any other status or a
failed connection is an error and makes the benchmark exit 1. Written to
``benchmarks/results/web.json``: p50 / p95 / p99 / max latency overall and per kind of
request, the counts, the wall time and the machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _harness import environment, print_table, write_json

NAME = "web"
PAGES = ["/", "/min-norm", "/flat-sharp", "/max-margin", "/runs", "/static/common.js"]


def _percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _stats(latencies: list[float]) -> dict[str, float | int]:
    if not latencies:
        return {"n": 0}
    return {
        "n": len(latencies),
        "p50_ms": 1000 * _percentile(latencies, 50),
        "p95_ms": 1000 * _percentile(latencies, 95),
        "p99_ms": 1000 * _percentile(latencies, 99),
        "max_ms": 1000 * max(latencies),
    }


def make_runs(root: Path, count: int = 30) -> None:
    """``count`` synthetic run folders (config, results with claims, a figure)."""
    for i in range(count):
        folder = root / f"min-norm-smoke-2024010{i % 9 + 1}T0000{i:02d}Z-{i:06x}"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(
            json.dumps({"experiment": "min-norm", "preset": "smoke", "config": {"seed": i}})
        )
        claims = [{"id": f"c{k}", "holds": k % 3 != 0, "error": None} for k in range(6)]
        (folder / "results.json").write_text(json.dumps({"status": "ok", "claims": claims}))
        (folder / "plane.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))


def problem(rng: random.Random) -> dict:
    """A small separable problem: points on either side of a random line through 0."""
    n = rng.randint(8, 20)
    angle = rng.uniform(0, 6.283185307179586)
    a, b = math.cos(angle), math.sin(angle)  # a unit normal: a margin of 0.2 always exists
    points, labels = [], []
    while len(points) < n:
        x = [round(rng.uniform(-3, 3), 3), round(rng.uniform(-3, 3), 3)]
        side = a * x[0] + b * x[1]
        if abs(side) > 0.2:
            points.append(x)
            labels.append(1 if side > 0 else -1)
    return {"points": points, "labels": labels}


def request(host: str, port: int, job: tuple[str, str, bytes | None]) -> tuple[int, float]:
    """One request on a new connection: (status, seconds); status -1 for a failed one."""
    method, path, body = job
    headers = {"Content-Type": "application/json"} if body is not None else {}
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        status = resp.status
        if status == 503 and not resp.getheader("Retry-After"):
            status = -503  # a 503 without Retry-After is not the documented one
    except OSError:
        status = -1
    finally:
        conn.close()
    return status, time.perf_counter() - t0


def jobs_for(client: int, count: int) -> list[tuple[str, str, str, bytes | None]]:
    rng = random.Random(client)
    jobs = []
    for j in range(count):
        slot = (client + j) % 10
        if slot < 5:
            jobs.append(("page", "GET", PAGES[(client + j) % len(PAGES)], None))
        elif slot < 8:
            jobs.append(("runs", "GET", "/api/runs", None))
        else:
            jobs.append(
                ("max-margin", "POST", "/api/max-margin", json.dumps(problem(rng)).encode())
            )
    return jobs


def start_server(runs: Path) -> tuple[subprocess.Popen, str, int]:
    exe = Path(sys.executable).with_name("implicitbias")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "implicitbias"]
    proc = subprocess.Popen(
        [*command, "serve", "--port", "0", "--runs", str(runs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "IMPLICITBIAS_PROGRESS": "0"},
    )
    line = proc.stdout.readline()
    match = re.search(r"http://(127\.0\.0\.1):(\d+)/", line)
    if match is None:
        proc.kill()
        raise RuntimeError(f"the server did not start: {line!r} {proc.stderr.read()[-2000:]}")
    return proc, match.group(1), int(match.group(2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (20)")
    parser.add_argument("--requests", type=int, default=50, help="requests per client (50)")
    parser.add_argument("--quick", action="store_true", help="5 clients x 10 requests")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.requests = 5, 10
    from implicitbias.web import server as web_server

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        runs = Path(tmp) / "runs"
        make_runs(runs)
        proc, host, port = start_server(runs)
        try:
            # warm up: the first solve imports cvxpy and compiles its problem types
            warm = [("GET", "/", None), ("GET", "/api/runs", None)]
            warm.append(("POST", "/api/max-margin", json.dumps(problem(random.Random(0))).encode()))
            for job in warm:
                status, _ = request(host, port, job)
                if status != 200:
                    raise RuntimeError(f"warm-up {job[:2]} answered {status}")
            results: list[list[tuple[str, int, float]]] = [[] for _ in range(args.clients)]
            plans = [jobs_for(c, args.requests) for c in range(args.clients)]
            start = threading.Barrier(args.clients + 1)

            def client(c: int) -> None:
                start.wait()
                for kind, method, path, body in plans[c]:
                    status, seconds = request(host, port, (method, path, body))
                    results[c].append((kind, status, seconds))

            threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
            for t in threads:
                t.start()
            start.wait()
            t0 = time.perf_counter()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    flat = [r for rs in results for r in rs]
    statuses: dict[str, int] = {}
    for _, status, _ in flat:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    busy = statuses.get("503", 0)
    errors = sum(n for s, n in statuses.items() if s not in ("200", "503"))
    answered = [seconds for _, status, seconds in flat if status == 200]
    by_kind = {
        kind: _stats([s for k, st, s in flat if k == kind and st == 200])
        for kind in ("page", "runs", "max-margin")
    }
    overall = _stats(answered)
    rows = [
        [kind, *(round(st.get(k, 0), 1) for k in ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms"))]
        for kind, st in [("all", overall), *by_kind.items()]
    ]
    print(f"{NAME}: {args.clients} clients x {args.requests} requests, {wall:.2f} s")
    print_table(rows, ["requests (200)", "n", "p50 [ms]", "p95 [ms]", "p99 [ms]", "max [ms]"])
    print(f"statuses: {statuses}; 503 (documented, Retry-After): {busy}; errors: {errors}")
    write_json(
        NAME,
        {
            "clients": args.clients,
            "requests_per_client": args.requests,
            "requests": len(flat),
            "wall_s": wall,
            "requests_per_s": len(flat) / wall,
            "statuses": statuses,
            "busy_503": busy,
            "errors": errors,
            "latency": overall,
            "latency_by_kind": by_kind,
            "server": {
                "request_queue_size": web_server.REQUEST_QUEUE_SIZE,
                "max_handler_threads": web_server.MAX_HANDLER_THREADS,
                "thread_wait_s": web_server.THREAD_WAIT,
                "max_solves": web_server.MAX_SOLVES,
                "solve_wait_s": web_server.SOLVE_WAIT,
            },
            "cpu_count": os.cpu_count(),
            "environment": environment(),
        },
    )
    if errors:
        print(f"{NAME}: {errors} error responses", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
