"""The explorer server under load and against other hosts (``implicitbias serve``).

Over HTTP, with the server in this process on a free port: the runs listings never follow a
symbolic link out of the runs folder; the listen queue is large enough for bursts of
connections; concurrent requests are all answered; the max-margin solves and the handler
threads are bounded, with a 503 and ``Retry-After`` beyond the bound; the ``Host`` header is
checked against an allow-list also when the server is bound to ``0.0.0.0``.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from implicitbias.web import api, make_server, start_in_thread
from implicitbias.web.server import REQUEST_QUEUE_SIZE, host_name

POINTS = {"points": [[0.5, 2.0], [2.5, 0.3], [-0.3, -1.2], [-2.0, -0.8]], "labels": [1, 1, -1, -1]}


def _request(
    url: str,
    path: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(
        url.rstrip("/") + path, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _post(url: str, payload) -> tuple[int, dict[str, str], bytes]:
    return _request(
        url,
        "/api/max-margin",
        method="POST",
        body=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )


def _local_url(srv) -> str:
    """The server's URL through the loopback address (also when bound to 0.0.0.0)."""
    return f"http://127.0.0.1:{srv.server_address[1]}/"


@pytest.fixture
def serve():
    """Start servers in this process; every one is shut down at the end of the test."""
    started = []

    def start(*args, **kwargs):
        srv = make_server(*args, **kwargs)
        start_in_thread(srv)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def _fake_run(folder: Path, *, status: str = "ok", experiment: str = "min-norm") -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"experiment": experiment, "preset": "smoke"}))
    claims = [{"id": "x", "holds": True, "error": None}]
    (folder / "results.json").write_text(
        json.dumps({"status": status, "message": "", "claims": claims})
    )
    (folder / "plane.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return folder


# ------------------------------------------------------------------- 9. symbolic links


@pytest.fixture
def linked_root(tmp_path) -> Path:
    """A runs folder with one real run and links leading out of it: to a whole run folder,
    to a results file, to a plain file, and to a profile folder."""
    root = tmp_path / "runs"
    outside = tmp_path / "outside"
    _fake_run(root / "min-norm-smoke-20240101T000000Z-aaaaaa")
    secret_run = _fake_run(outside / "secret-run-20240101T000000Z-ffffff", status="SECRETSTATUS")
    (outside / "secret-file.png").write_bytes(b"\x89PNG\r\n\x1a\nSECRET")
    secret_profile = outside / "secret-profile"
    secret_profile.mkdir()
    (secret_profile / "config.json").write_text(json.dumps({"experiment": "profile"}))
    (secret_profile / "results.json").write_text('{"status": "ok", "scal')  # would be "skipped"
    try:
        (root / "linked-run-20240101T000000Z-bbbbbb").symlink_to(secret_run)
        (root / "linked-report.html").symlink_to(outside / "secret-file.png")
        (root / "linked-profile").symlink_to(secret_profile)
        # a run folder of its own whose files lead out
        inner = root / "max-margin-smoke-20240101T000001Z-cccccc"
        inner.mkdir()
        (inner / "config.json").write_text(json.dumps({"experiment": "max-margin"}))
        (inner / "results.json").symlink_to(secret_run / "results.json")
        (inner / "secret-file.png").symlink_to(outside / "secret-file.png")
        (inner / "own.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        (inner / "own-link.png").symlink_to(inner / "own.png")  # stays inside: listed
    except OSError:
        pytest.skip("this file system has no symbolic links")
    return root


def test_api_runs_lists_nothing_reached_through_a_link_out_of_the_folder(serve, linked_root):
    srv = serve("127.0.0.1", 0, linked_root)
    status, _, body = _request(srv.url, "/api/runs")
    assert status == 200
    text = body.decode()
    data = json.loads(text)
    names = [r["name"] for r in data["runs"]]
    assert names == [
        "max-margin-smoke-20240101T000001Z-cccccc",
        "min-norm-smoke-20240101T000000Z-aaaaaa",
    ]
    assert "secret" not in text and "SECRETSTATUS" not in text and "linked" not in text
    inner = data["runs"][0]
    assert inner["files"] == ["config.json", "own-link.png", "own.png"]
    assert inner["status"] == "unknown"  # its results.json leads out: not read
    assert inner["claims"] == {"holds": 0, "does not hold": 0, "error": 0, "not applicable": 0}
    assert data["reports"] == []
    # and the file server agrees: nothing behind those links is served
    for path in (
        "/runs/linked-run-20240101T000000Z-bbbbbb/results.json",
        "/runs/max-margin-smoke-20240101T000001Z-cccccc/secret-file.png",
        "/runs/linked-report.html",
    ):
        assert _request(srv.url, path)[0] == 404, path
    assert (
        _request(srv.url, "/runs/max-margin-smoke-20240101T000001Z-cccccc/own-link.png")[0] == 200
    )


def test_api_profiles_does_not_follow_a_link_out_of_the_folder(serve, linked_root):
    srv = serve("127.0.0.1", 0, linked_root)
    status, _, body = _request(srv.url, "/api/profiles")
    assert status == 200
    data = json.loads(body)
    assert data["profiles"] == [] and data["skipped"] == []
    assert "secret" not in body.decode() and "linked" not in body.decode()
    # the same functions, called directly
    assert api.list_profiles(linked_root)["skipped"] == []
    assert "secret" not in json.dumps(api.list_runs(linked_root))


def test_inside_is_the_file_servers_rule(tmp_path, linked_root):
    outside = tmp_path / "outside"
    assert api.inside(linked_root, linked_root / "min-norm-smoke-20240101T000000Z-aaaaaa")
    assert not api.inside(linked_root, linked_root / "linked-run-20240101T000000Z-bbbbbb")
    assert not api.inside(linked_root, linked_root)
    assert not api.inside(linked_root, linked_root / "missing")
    assert not api.inside(linked_root, outside / "secret-file.png")


# ------------------------------------------------------------------------------ 10. load


def test_the_listen_queue_holds_a_burst_of_connections(tmp_path):
    """With Python's default queue of 5, connections beyond the 6th wait for a SYN retry
    (1 s) while the server is busy; with 128 they are all queued at once."""
    srv = make_server("127.0.0.1", 0, tmp_path)  # bound and listening, not accepting
    assert srv.request_queue_size == REQUEST_QUEUE_SIZE >= 128
    socks = []
    try:
        for _ in range(40):
            socks.append(socket.create_connection(srv.server_address[:2], timeout=0.5))
    finally:
        for s in socks:
            s.close()
        srv.server_close()
    assert len(socks) == 40


def test_20_threads_of_20_gets_are_all_answered(serve, tmp_path):
    _fake_run(tmp_path / "runs" / "min-norm-smoke-20240101T000000Z-aaaaaa")
    srv = serve("127.0.0.1", 0, tmp_path / "runs")
    paths = ["/", "/api/runs", "/max-margin", "/static/style.css", "/runs"]
    paths = [p for p in paths if p != "/static/style.css" or "style.css" in srv.static]

    def client(i: int) -> list[tuple[int, float]]:
        out = []
        for j in range(20):
            t0 = time.perf_counter()
            status = _request(srv.url, paths[(i + j) % len(paths)])[0]
            out.append((status, time.perf_counter() - t0))
        return out

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = [r for rs in pool.map(client, range(20)) for r in rs]
    statuses = [s for s, _ in results]
    assert len(statuses) == 400
    assert statuses == [200] * 400, sorted(set(statuses))
    print(f"max latency of 400 GETs: {max(t for _, t in results):.3f} s")


def test_a_saturated_solver_answers_503_with_retry_after(serve, tmp_path, monkeypatch):
    srv = serve("127.0.0.1", 0, tmp_path, max_solves=2)
    srv.solve_wait = 0.2
    release = threading.Event()
    entered = threading.Semaphore(0)

    def blocking_solve(payload):
        entered.release()
        assert release.wait(30), "never released"
        return {"fake": True}

    monkeypatch.setattr(api, "max_margin_api", blocking_solve)
    with ThreadPoolExecutor(max_workers=2) as pool:
        held = [pool.submit(_post, srv.url, POINTS) for _ in range(2)]
        try:
            for _ in range(2):
                assert entered.acquire(timeout=30), "the solves did not start"
            status, headers, body = _post(srv.url, POINTS)
            assert status == 503
            assert headers["Retry-After"] == "1"
            error = json.loads(body)
            assert error["status"] == 503 and "busy" in error["error"]
            # a bad body is refused at once, not queued behind the solves
            assert _post(srv.url, {"points": [[1, "x"]], "labels": [1]})[0] == 400
        finally:
            release.set()
        assert [f.result()[0] for f in held] == [200, 200]
    status, _, body = _post(srv.url, POINTS)
    assert status == 200 and json.loads(body) == {"fake": True}
    monkeypatch.undo()
    status, _, body = _post(srv.url, POINTS)
    assert status == 200 and json.loads(body)["separable"] is True


def test_beyond_max_threads_a_connection_gets_a_503_at_once(serve, tmp_path):
    srv = serve("127.0.0.1", 0, tmp_path, max_threads=1)
    srv.thread_wait = 0.1
    address = srv.server_address[:2]
    holder = socket.create_connection(address, timeout=30)
    try:
        holder.sendall(b"GET / HTTP/1.1\r\n")  # an unfinished request holds the only thread
        time.sleep(0.3)
        status, headers, body = _request(srv.url, "/api/runs")
        assert status == 503 and headers["Retry-After"] == "1"
        assert json.loads(body)["status"] == 503
        assert srv.busy_refused >= 1
    finally:
        holder.close()
    deadline = time.monotonic() + 30
    while (status := _request(srv.url, "/")[0]) == 503 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status == 200


def test_load_limits_are_validated(tmp_path):
    for bad in ({"max_threads": 0}, {"max_solves": -1}, {"max_solves": True}):
        with pytest.raises(ValueError):
            make_server("127.0.0.1", 0, tmp_path, **bad)


# ------------------------------------------------------------------ 11. Host allow-list


def test_bound_to_all_interfaces_only_allowed_hosts_pass(serve, tmp_path):
    try:
        srv = serve("0.0.0.0", 0, tmp_path, allow_hosts=["MyBox.LAN", "192.168.7.7"])
    except OSError as exc:
        pytest.skip(f"cannot bind 0.0.0.0 here: {exc}")
    assert not srv.is_loopback()
    url, port = _local_url(srv), srv.server_address[1]
    for host in ("evil.example", f"evil.example:{port}", "mybox.lan.evil.example", "10.0.0.1"):
        status, _, body = _request(url, "/api/runs", headers={"Host": host})
        message = json.loads(body)["error"]
        assert status == 403, host
        assert "Host" in message and host.split(":")[0] in message, message
        assert "--allow-host" in message, message
    for host in (
        "mybox.lan",
        f"MyBox.lan:{port}",
        "192.168.7.7",
        "localhost",
        f"localhost:{port}",
        "127.0.0.1",
        f"[::1]:{port}",
        f"0.0.0.0:{port}",
    ):
        assert _request(url, "/api/runs", headers={"Host": host})[0] == 200, host


def test_a_loopback_server_takes_the_allow_list_too(serve, tmp_path):
    srv = serve("127.0.0.1", 0, tmp_path, allow_hosts=["box.local"])
    assert srv.allowed_hosts == {"localhost", "127.0.0.1", "::1", "box.local"}
    assert _request(srv.url, "/", headers={"Host": "box.local:80"})[0] == 200
    status, _, body = _request(srv.url, "/", headers={"Host": "other.local"})
    assert status == 403 and "--allow-host other.local" in json.loads(body)["error"]
    # a Host that is no name at all is refused without suggesting it
    status, _, body = _request(srv.url, "/", headers={"Host": "a b"})
    assert status == 403 and "--allow-host" not in json.loads(body)["error"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("localhost", "localhost"),
        ("MyBox.Lan.", "mybox.lan"),
        ("192.168.1.5", "192.168.1.5"),
        ("[::1]", "::1"),
        ("fe80::1", "fe80::1"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_host_name_accepts_names_and_addresses(value, expected):
    assert host_name(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "box:8080",
        "http://box",
        "box/path",
        "*.example",
        "-box",
        "box-",
        "a b",
        "a..b",
        "999.1.1.1",
        "under_score",
        "x" * 64,
        "é.example",
    ],
)
def test_host_name_refuses_anything_else(value):
    with pytest.raises(ValueError):
        host_name(value)
    with pytest.raises(ValueError):
        make_server("127.0.0.1", 0, None, allow_hosts=[value])


@pytest.mark.parametrize("value", ["box:8080", "http://box", "*.example", ""])
def test_cli_refuses_a_bad_allow_host(value, capsys):
    from implicitbias.cli import main

    assert main(["serve", "--port", "0", "--allow-host", "ok.lan", "--allow-host", value]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "`--allow-host`: expected a host name or IP address" in err and repr(value) in err


def test_cli_serve_with_allow_host_on_all_interfaces(tmp_path):
    exe = Path(sys.executable).with_name("implicitbias")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "implicitbias"]
    proc = subprocess.Popen(
        [
            *command,
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--runs",
            str(tmp_path),
            "--allow-host",
            "mybox.lan",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://0\.0\.0\.0:(\d+)/", line)
        if match is None and proc.poll() is not None:
            pytest.skip(f"cannot bind 0.0.0.0 here: {proc.stderr.read()[-300:]}")
        assert match, line
        url = f"http://127.0.0.1:{match.group(1)}/"
        assert _request(url, "/api/runs", headers={"Host": "mybox.lan"})[0] == 200
        assert _request(url, "/api/runs", headers={"Host": "localhost"})[0] == 200
        status, _, body = _request(url, "/api/runs", headers={"Host": "evil.example"})
        assert status == 403 and "--allow-host evil.example" in json.loads(body)["error"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "--allow-host" in proc.stderr.read()  # the warning says how to add a name
