"""The web explorer (``implicitbias serve``), tested over HTTP and in a real browser.

HTTP tests (urllib and raw sockets, no browser): pages and assets, path traversal refused
with 404, every bad API input answered with a 4xx JSON error, and the server still alive
afterwards. Browser tests: Python playwright driving Debian's chromium (headless, never
``playwright install``); they are skipped, with the reason, where ``/usr/bin/chromium`` or
playwright is missing. The numbers shown by the pages are checked against independent
references: ``implicitbias.theory`` (closest interpolator, cvxpy max margin) computed here,
and the flat-sharp experiment's landscape.

Screenshots of each page go to the test's ``tmp_path``; with
``IMPLICITBIAS_WEB_SCREENSHOTS=docs/figures`` they are also written there as
``web-<page>.png`` (the README's pictures)::

    IMPLICITBIAS_WEB_SCREENSHOTS=docs/figures .venv/bin/python -m pytest tests/test_web.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from implicitbias import lab, theory
from implicitbias.web import api, make_server, start_in_thread
from implicitbias.web.server import safe_child

SCREENSHOTS = os.environ.get("IMPLICITBIAS_WEB_SCREENSHOTS")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory) -> Path:
    """A runs folder with one real run in it (min-norm, smoke preset), a report beside it,
    a secret file outside it (the traversal target), and a symbolic link leaving it."""
    base = tmp_path_factory.mktemp("web")
    root = base / "runs"
    result = lab.run("min-norm", preset="smoke", out=root)
    assert result.path is not None and result.path.parent == root
    (root / "report-test.html").write_text("<html><body>a report</body></html>")
    verify = root / "verify-quick-20200101T000000Z-abcdef"  # what `verify` writes
    verify.mkdir()
    (verify / "report.html").write_text("<html><body>verify report</body></html>")
    (verify / "claims.json").write_text(
        json.dumps(
            [
                {"id": "a", "holds": True, "error": None},
                {"id": "b", "holds": False, "error": None},
                {"id": "c", "holds": None, "error": "run failed"},
                {"id": "d", "holds": None, "error": None, "reason": "not applicable: x"},
            ]
        )
    )
    (root / "not-a-run").mkdir()  # no config.json, no claims.json: not listed
    (base / "secret.txt").write_text("SECRET")
    (root / ".hidden.json").write_text("{}")
    try:
        (root / "outside").symlink_to(base)
    except OSError:  # no symlinks here: that case is simply not exercised
        pass
    return root


@pytest.fixture(scope="module")
def server(runs_root):
    """The server, in this process, on a free port."""
    srv = make_server("127.0.0.1", 0, runs_root)
    start_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def run_name(runs_root) -> str:
    (folder,) = [p for p in runs_root.iterdir() if p.is_dir() and p.name.startswith("min-norm")]
    return folder.name


def _request(
    server,
    path: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(
        server.url.rstrip("/") + path, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _raw(server, data: bytes) -> bytes:
    """Send raw bytes (for paths urllib would normalise) and return the whole answer."""
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def _raw_status(server, path: str) -> int:
    answer = _raw(
        server,
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"),
    )
    return int(answer.split(b" ", 2)[1])


def _post(server, payload, *, content_type: str = "application/json"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return _request(
        server, "/api/max-margin", method="POST", body=body, headers={"Content-Type": content_type}
    )


def _alive(server) -> None:
    status, _, body = _request(server, "/")
    assert status == 200 and b"implicitbias explorer" in body


# ------------------------------------------------------------------------- HTTP: pages


def test_pages_and_assets_are_served(server):
    for path, marker in [
        ("/", b"implicitbias explorer"),
        ("/min-norm", b"Minimum-norm"),
        ("/flat-sharp", b"Flat vs sharp"),
        ("/max-margin", b"Max-margin"),
        ("/runs", b"Runs"),
        ("/static/common.js", b"const IB"),
    ]:
        status, headers, body = _request(server, path)
        assert status == 200, path
        assert marker in body, path
        assert headers["X-Content-Type-Options"] == "nosniff"
    # the pages load nothing from elsewhere: every src/href is local
    for page in ("/", "/min-norm", "/flat-sharp", "/max-margin", "/runs"):
        html = _request(server, page)[2].decode()
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith("/"), (page, url)


def test_server_binds_loopback_by_default():
    srv = make_server(port=0, runs=None)
    try:
        assert srv.server_address[0] == "127.0.0.1"
        assert srv.is_loopback()
    finally:
        srv.server_close()


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server.py",
        "/static/%2e%2e/server.py",
        "/static/..%2fserver.py",
        "/static/api.py",
        "/static/",
        "/static/.hidden",
        "/runs/../secret.txt",
        "/runs/%2e%2e/secret.txt",
        "/runs/..%2fsecret.txt",
        "/runs/%2e%2e%2fsecret.txt",
        "/runs/outside/secret.txt",
        "/runs/.hidden.json",
        "/runs//etc/passwd",
        "/runs/%2fetc%2fpasswd",
        "/runs/..\\secret.txt",
        "/runs/%00",
        "/runs/",
        "/runs/nope/report.html",
        "/runs/../runs/../secret.txt",
        "/secret.txt",
        "/../secret.txt",
        "/api/nothing",
    ],
)
def test_traversal_and_unknown_paths_are_404(server, path):
    assert _raw_status(server, path) == 404
    _alive(server)


def test_run_folder_files_and_report(server, runs_root, run_name):
    status, headers, body = _request(server, f"/runs/{run_name}/config.json")
    assert status == 200 and json.loads(body)["experiment"] == "min-norm"
    assert "sandbox" in headers["Content-Security-Policy"]  # nothing in a run folder runs
    status, _, body = _request(server, f"/runs/{run_name}/plane.png")
    assert status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n"
    assert body == (runs_root / run_name / "plane.png").read_bytes()
    # arrays are not served (only figures, reports and text files)
    assert _request(server, f"/runs/{run_name}/arrays.npz")[0] == 404
    # no report.html in a single run folder: rendered on request, never written
    status, _, body = _request(server, f"/runs/{run_name}/report.html")
    assert status == 200 and run_name.encode() in body and b"data:image/png;base64" in body
    assert not (runs_root / run_name / "report.html").exists()
    assert _request(server, "/runs/report-test.html")[2] == b"<html><body>a report</body></html>"


def test_api_runs_lists_the_run(server, run_name):
    status, _, body = _request(server, "/api/runs")
    assert status == 200
    data = json.loads(body)
    (entry,) = [r for r in data["runs"] if r["name"] == run_name]
    assert entry["experiment"] == "min-norm" and entry["preset"] == "smoke"
    assert entry["status"] == "ok"
    assert entry["claims"]["holds"] >= 1 and entry["claims"]["error"] == 0
    assert "plane.png" in entry["figures"]
    assert data["reports"] == ["report-test.html"]
    (verify,) = [r for r in data["runs"] if r["name"].startswith("verify-")]
    assert verify["claims"] == {"holds": 1, "does not hold": 1, "error": 1, "not applicable": 1}
    assert verify["report"] == "report.html" and verify["experiment"] == "verify"
    assert not any(r["name"] == "not-a-run" for r in data["runs"])
    status, _, body = _request(server, f"/runs/{verify['name']}/report.html")
    assert status == 200 and body == b"<html><body>verify report</body></html>"


def test_runs_page_corrupt_runs_links_and_order(tmp_path):
    """An incomplete or corrupt run has no report link and its report URL is a 422 with a
    message; a link is not listed; the order is by the start time in the folder name, not by
    the folder's mtime."""
    root = tmp_path / "runs"
    root.mkdir()
    old = root / "min-norm-default-20200101T000000Z-aaaaaa"
    new = root / "min-norm-default-20240101T000000Z-bbbbbb"
    for folder in (old, new):
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"experiment": "min-norm"}))  # no preset
    (new / "results.json").write_text('{"status": "ok", "clai')  # truncated
    os.utime(old, (4e9, 4e9))  # touched last: an mtime order would put it first
    (root / "link").symlink_to(new)
    srv = make_server("127.0.0.1", 0, root)
    start_in_thread(srv)
    try:
        data = json.loads(_request(srv, "/api/runs")[2])
        assert [r["name"] for r in data["runs"]] == [new.name, old.name]
        assert all(r["report"] is None for r in data["runs"])
        for folder in (old, new):
            status, _, body = _request(srv, f"/runs/{folder.name}/report.html")
            message = json.loads(body)["error"]
            assert status == 422 and "incomplete or corrupt" in message and folder.name in message
        _alive(srv)
    finally:
        srv.shutdown()
        srv.server_close()


# --------------------------------------------------------------------- HTTP: the API


def test_max_margin_api_matches_theory(server):
    X = np.array([[0.5, 2.0], [2.5, 0.3], [1.5, 1.5], [-0.3, -1.2], [-2.0, -0.8]])
    y = np.array([1, 1, 1, -1, -1])
    status, _, body = _post(server, {"points": X.tolist(), "labels": y.tolist()})
    assert status == 200
    answer = json.loads(body)
    assert answer["separable"] is True
    for norm in ("l2", "linf"):
        ref = theory.max_margin(X, y, norm)
        np.testing.assert_allclose(answer[norm]["direction"], ref.direction, atol=1e-6)
        assert answer[norm]["margin"] == pytest.approx(ref.margin, rel=1e-6)
    # the l2 direction by hand: support vectors 1 and 3 have equal margins
    # (checked in the browser test by the page's exact 2D solver as well)
    u = np.array(answer["l2"]["direction"])
    z = y[:, None] * X
    assert (z @ u).min() == pytest.approx(answer["l2"]["margin"], rel=1e-6)
    assert answer["linf"]["unique"] is True


def test_linf_solution_set_can_be_a_segment(server):
    # One positive point (1, 0): min ||w||_inf s.t. w1 >= 1 is 1, reached by w = (1, t) for
    # every |t| <= 1 (a segment). The point (2, 1): min ||w||_inf s.t. 2 w1 + w2 >= 1 is
    # 1/3, reached only at (1/3, 1/3).
    status, _, body = _post(server, {"points": [[1.0, 0.0]], "labels": [1]})
    assert status == 200 and json.loads(body)["linf"]["unique"] is False
    status, _, body = _post(server, {"points": [[2.0, 1.0]], "labels": [1]})
    assert status == 200 and json.loads(body)["linf"]["unique"] is True


def test_max_margin_api_reports_non_separable(server):
    status, _, body = _post(server, {"points": [[1, 1], [2, 2]], "labels": [1, -1]})
    assert status == 200
    answer = json.loads(body)
    assert answer["separable"] is False and "l2" not in answer
    assert "not separable" in answer["message"]


@pytest.mark.filterwarnings("ignore:Solution may be inaccurate")
def test_solver_trouble_is_a_4xx_not_a_500(server):
    # margins 1e-6 and 1e6 in one problem: the separability LP says separable, the QP may
    # fail on the scaling; either way the answer is a JSON 200 or 422, never a 500
    status, _, body = _post(server, {"points": [[1e-6, 1e-6], [1e6, -1e6]], "labels": [1, -1]})
    assert status in (200, 422), body
    if status == 422:
        assert json.loads(body)["error"].startswith("the convex solver failed")
    _alive(server)


BAD_PAYLOADS = [
    ({"points": [], "labels": []}, "points"),
    ({"points": [[1, 2]] * (api.MAX_POINTS + 1), "labels": [1] * (api.MAX_POINTS + 1)}, "points"),
    ({"points": [[1, 2]], "labels": [1, -1]}, "labels"),
    ({"points": [[1, 2]], "labels": [0]}, "labels[0]"),
    ({"points": [[1, 2]], "labels": [True]}, "labels[0]"),
    ({"points": [[1, 2]], "labels": ["1"]}, "labels[0]"),
    ({"points": [[1, "2"]], "labels": [1]}, "points[0][1]"),
    ({"points": [[1, True]], "labels": [1]}, "points[0][1]"),
    ({"points": [[1, 1e300]], "labels": [1]}, "points[0][1]"),
    ({"points": [[1, 2], [3]], "labels": [1, -1]}, "points[1]"),
    ({"points": [[1, None]], "labels": [1]}, "points[0][1]"),
    ({"points": [[]], "labels": [1]}, "points[0]"),
    ({"points": [list(range(api.MAX_DIM + 1))], "labels": [1]}, "points[0]"),
    ({"points": "1,2", "labels": [1]}, "points"),
    ({"points": [[1, 2]], "labels": [1], "steps": 10}, "body"),
    ([1, 2, 3], "body"),
    ("points", "body"),
]


@pytest.mark.parametrize(("payload", "param"), BAD_PAYLOADS)
def test_bad_api_inputs_are_400_with_a_message(server, payload, param):
    status, headers, body = _post(server, payload)
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    message = json.loads(body)["error"]
    assert message.startswith(f"`{param}`: expected "), message


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"points": [[1, NaN]], "labels": [1]}', "application/json", 400),
        (b'{"points": [[1, Infinity]], "labels": [1]}', "application/json", 400),
        (b'{"points": [[1, 1e999]], "labels": [1]}', "application/json", 400),
        (b'{"points": [[1, 2]', "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b'{"points": [[1, 2]], "labels": [1]}', "text/plain", 415),
    ],
)
def test_malformed_bodies_are_4xx(server, body, content_type, status):
    got, _, answer = _post(server, body, content_type=content_type)
    assert got == status
    assert json.loads(answer)["status"] == status
    _alive(server)


def test_protocol_abuse_gets_4xx_and_the_server_survives(server):
    big = (
        "POST /api/max-margin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
        "\r\nContent-Length: 100000000\r\n\r\n"
    )  # refused before any body is read
    assert b" 413 " in _raw(server, big.encode())
    no_length = "POST /api/max-margin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert b" 411 " in _raw(server, no_length.encode())
    bad_length = (
        "POST /api/max-margin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n"
        "Connection: close\r\n\r\n"
    )
    assert b" 400 " in _raw(server, bad_length.encode())
    assert b" 400 " in _raw(server, b"NONSENSE\r\n\r\n")
    assert _request(server, "/api/max-margin")[0] == 405  # GET on the POST endpoint
    assert _request(server, "/api/runs", method="DELETE")[0] == 405
    assert (
        _request(
            server,
            "/min-norm",
            method="POST",
            body=b"{}",
            headers={"Content-Type": "application/json"},
        )[0]
        == 405
    )
    # DNS rebinding: a loopback server answers only to its own host names
    status, _, body = _request(server, "/api/runs", headers={"Host": "evil.example:80"})
    assert status == 403 and b"Host" in body
    assert _request(server, "/", headers={"Host": "localhost"})[0] == 200
    _alive(server)


def test_concurrent_good_and_bad_requests_are_all_answered(server):
    from concurrent.futures import ThreadPoolExecutor

    jobs = [
        ("/api/runs", None, 200),
        ("/runs/../secret.txt", None, 404),
        ("/api/max-margin", {"points": [[1, 2]], "labels": [1]}, 200),
        ("/api/max-margin", {"points": [[1, "x"]], "labels": [1]}, 400),
    ] * 6

    def one(job):
        path, payload, _ = job
        if payload is None:
            return _raw_status(server, path)
        return _post(server, payload)[0]

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(one, jobs))
    assert statuses == [expected for _, _, expected in jobs]
    _alive(server)


def test_an_exception_inside_a_request_is_a_500_and_not_fatal(server, monkeypatch):
    def boom(payload):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(api, "max_margin_api", boom)
    status, _, body = _post(server, {"points": [[1, 2]], "labels": [1]})
    assert status == 500 and "solver exploded" in json.loads(body)["error"]
    monkeypatch.undo()
    _alive(server)


def test_safe_child_refuses_everything_outside(tmp_path):
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "f.png").write_bytes(b"x")
    (tmp_path / "s.txt").write_text("s")
    assert safe_child(root, "a/f.png") == (root / "a" / "f.png").resolve()
    for bad in [
        "",
        "..",
        "../s.txt",
        "a/../../s.txt",
        "a//f.png",
        "./a/f.png",
        "a/.f",
        "a\\f.png",
        "a/f.png\x00",
        "/etc/passwd",
        "a/missing.png",
    ]:
        assert safe_child(root, bad) is None, bad


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["points", "labels", "x"]), inner, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_validation_accepts_only_finite_labelled_points(payload):
    """Any JSON value either raises ApiError (a 4xx) or yields finite, consistent arrays."""
    try:
        X, y = api.points_and_labels(payload)
    except api.ApiError as err:
        assert 400 <= err.status < 500 and err.message.startswith("`")
        return
    assert X.ndim == 2 and 1 <= len(X) <= api.MAX_POINTS and 1 <= X.shape[1] <= api.MAX_DIM
    assert np.isfinite(X).all() and np.abs(X).max() <= api.MAX_ABS
    assert set(np.unique(y)) <= {-1.0, 1.0} and len(y) == len(X)


def test_a_huge_integer_and_deep_nesting_are_400_not_500(server):
    points = [[1, 10**400], [-1, -1]]
    status, _, body = _post(server, {"points": points, "labels": [1, -1]})
    assert status == 400, body
    assert b"points[0][1]" in body and b"an integer of 401 digits" in body
    deep = b"[" * 50_000 + b"]" * 50_000
    status, _, body = _post(server, deep)
    assert status == 400 and b"nested too deeply" in body, body
    _alive(server)


huge_or_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**500), max_value=10**500)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["points", "labels", "x"]), inner, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(huge_or_json)
def test_the_json_api_never_answers_5xx(server, payload):
    """Any JSON body gets a 2xx or a 4xx with a JSON error, never a 5xx."""
    status, _, body = _post(server, payload)
    assert 200 <= status < 500, (status, body[:300])
    if status >= 400:
        assert json.loads(body)["error"]


# ------------------------------------------------------------------------------- CLI


def test_cli_serve_prints_the_address_and_serves(tmp_path):
    exe = Path(sys.executable).with_name("implicitbias")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "implicitbias"]
    proc = subprocess.Popen(
        [*command, "serve", "--port", "0", "--runs", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        with urllib.request.urlopen(match.group(0) + "api/runs", timeout=30) as resp:
            data = json.loads(resp.read())
        assert data["runs"] == [] and Path(data["root"]) == tmp_path.resolve()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_cli_serve_rejects_a_bad_port(capsys):
    from implicitbias.cli import main

    assert main(["serve", "--port", "70000"]) == 2
    assert "`--port`: expected an integer in [0, 65535]" in capsys.readouterr().err


# --------------------------------------------------------------------------- browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield pg
    context.close()
    assert not errors, errors  # no script errors, no CSP violations


def _plane_point(page, x: float, y: float) -> tuple[float, float]:
    """Page pixels of data point (x, y) in a 2D ``#plane`` plot (box [-3, 3]^2, 520 px, pad
    28); in the 3D view (box [-4, 4]^2) a point of the screen plane."""
    box = page.locator("#plane").bounding_box()
    px = box["x"] + (28 + (x + 3) / 6 * 464) * box["width"] / 520
    py = box["y"] + (520 - 28 - (y + 3) / 6 * 464) * box["height"] / 520
    return px, py


def _numbers(text: str) -> list[float]:
    return [float(v) for v in NUMBER.findall(text)]


def _screenshot(pg, tmp_path: Path, name: str) -> None:
    target = tmp_path / f"web-{name}.png"
    pg.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, Path(SCREENSHOTS) / target.name)


def test_min_norm_drag_w0_gd_limit_is_the_closest_point(server, page, tmp_path):
    page.goto(server.url + "min-norm?x=1,2&y=1&w0=-2,-1&lr=0.1")
    page.wait_for_selector("body[data-ready='1']")
    start = _plane_point(page, -2.0, -1.0)  # where w0 is drawn
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 230, start[1] + 40, steps=8)
    page.mouse.up()
    w0 = np.array(_numbers(page.text_content("#w0")))
    assert w0.shape == (2,) and not np.allclose(w0, [-2, -1])  # it moved
    assert f"w0={w0[0]:g},{w0[1]:g}" in page.url  # ... and the URL says so
    X, y = np.array([[1.0, 2.0]]), np.array([1.0])
    reference = theory.closest_interpolator(X, y, w0)
    limit = np.array(_numbers(page.text_content("#gd-limit")))
    np.testing.assert_allclose(limit, reference, atol=1e-6, rtol=0)
    np.testing.assert_allclose(_numbers(page.text_content("#closest")), reference, atol=1e-6)
    assert float(page.text_content("#dist")) == pytest.approx(
        np.linalg.norm(reference - w0), abs=1e-6
    )
    _screenshot(page, tmp_path, "min-norm")

    # lr |x|^2 = 1.5: GD oscillates across the line and still ends at the closest point
    page.fill("#lr", "0.3")
    limit = np.array(_numbers(page.text_content("#gd-limit")))
    np.testing.assert_allclose(limit, reference, atol=1e-6, rtol=0)
    assert "oscillating" in page.text_content("#status")
    # lr |x|^2 = 2.5 > 2: diverges, and the page says so instead of showing a limit
    page.fill("#lr", "0.5")
    assert "diverges" in page.text_content("#status")
    assert "diverged" in page.text_content("#gd-limit")
    # editing the data point moves the line: a new reference
    page.fill("#lr", "0.1")
    page.fill("#x1", "-1.5")
    reference = theory.closest_interpolator(np.array([[-1.5, 2.0]]), y, w0)
    np.testing.assert_allclose(_numbers(page.text_content("#gd-limit")), reference, atol=1e-6)


def test_min_norm_three_parameters_drag_and_turn(server, page):
    page.goto(server.url + "min-norm?p=3&x=1,2,2&y=1&w0=-1.5,-1,-0.5&lr=0.1&view=120,15")
    page.wait_for_selector("body[data-anim='done']")
    box = page.locator("#w0-handle").bounding_box()
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] - 60, start[1] + 50, steps=6)
    page.mouse.up()
    w0 = np.array(_numbers(page.text_content("#w0")))
    assert w0.shape == (3,) and not np.allclose(w0, [-1.5, -1, -0.5])
    X, y = np.array([[1.0, 2.0, 2.0]]), np.array([1.0])
    reference = theory.closest_interpolator(X, y, w0)
    np.testing.assert_allclose(_numbers(page.text_content("#gd-limit")), reference, atol=1e-6)
    np.testing.assert_allclose(_numbers(page.text_content("#closest")), reference, atol=1e-6)
    # a drag away from the handle turns the view: w0 and the numbers stay
    shown = page.text_content("#gd-limit")
    corner = _plane_point(page, -2.8, -2.8)  # a corner of the view, far from w0
    page.mouse.move(*corner)
    page.mouse.down()
    page.mouse.move(corner[0] + 80, corner[1] - 30, steps=4)
    page.mouse.up()
    assert "view=120,15" not in page.url and page.text_content("#gd-limit") == shown


def _flat_fraction(page, run: int) -> float:
    page.wait_for_selector(f"body[data-run='{run}'][data-state='done']", timeout=60_000)
    return float(page.text_content("#flat-fraction"))


def test_flat_sharp_more_noise_more_walkers_in_the_flat_basin(server, page, tmp_path):
    from implicitbias.problems.landscapes import Landscape

    page.goto(server.url + "flat-sharp?noise=2.5&lr=0.01&walkers=400&steps=5000&seed=1")
    low = _flat_fraction(page, 1)
    counts = _numbers(page.text_content("#counts"))
    assert counts[0] + counts[1] + counts[2] == counts[3] == 400
    # the page's barrier is the experiment's (same landscape, found independently)
    assert float(page.text_content("#barrier")) == pytest.approx(Landscape().barrier(), abs=1e-4)
    _screenshot(page, tmp_path, "flat-sharp")
    page.fill("#noise", "14")
    assert "noise=14" in page.url
    page.click("#run")
    high = _flat_fraction(page, 2)
    # Expected direction: more gradient noise empties the sharp basin first (Kramers),
    # so more walkers end in the flat one. With 400 walkers the binomial standard error
    # of a fraction is <= 0.025; the gap measured here is about 0.14.
    assert high > low + 0.05, (low, high)
    # linear stability: with eta > 2 / k_sharp (0.1) and no noise, no walker rests at x = -1;
    # from eta = 0.15 the sharp basin holds none at all
    page.fill("#noise", "0")
    page.fill("#lr", "0.15")
    page.click("#run")
    assert _flat_fraction(page, 3) == 1.0


def _click_data(page, x: float, y: float, *, shift: bool = False) -> None:
    """Click the max-margin plane at data coordinates."""
    if shift:
        page.keyboard.down("Shift")
    page.mouse.click(*_plane_point(page, x, y))
    if shift:
        page.keyboard.up("Shift")


def _points_from_url(url: str) -> tuple[np.ndarray, np.ndarray]:
    text = urllib.parse.unquote(re.search(r"[?&]p=([^&]*)", url).group(1))
    rows = np.array([[float(v) for v in item.split(",")] for item in text.split(";")])
    return rows[:, :2], rows[:, 2]


def _wait_api(page, n: int) -> None:
    page.wait_for_function(
        "n => document.getElementById('npoints-api').textContent === String(n)"
        " && document.getElementById('l2-dir').textContent !== '…'",
        arg=n,
        timeout=30_000,
    )


def test_max_margin_clicked_points_l2_direction_matches_theory(server, page, tmp_path):
    page.goto(server.url + "max-margin?p=&steps=100000&add=1")
    for x, y in [(0.5, 2.0), (2.5, 0.3), (1.5, 1.5)]:
        _click_data(page, x, y)
    for x, y in [(-0.3, -1.2), (-2.0, -0.8)]:
        _click_data(page, x, y, shift=True)
    _wait_api(page, 5)
    X, labels = _points_from_url(page.url)
    assert len(X) == 5 and list(labels) == [1, 1, 1, -1, -1]
    np.testing.assert_allclose(
        X, [[0.5, 2], [2.5, 0.3], [1.5, 1.5], [-0.3, -1.2], [-2, -0.8]], atol=0.02
    )  # clicks land within a pixel or so
    assert page.text_content("#separable").startswith("yes")
    for norm, element in (("l2", "#l2-dir"), ("linf", "#linf-dir")):
        ref = theory.max_margin(X, labels, norm).direction
        np.testing.assert_allclose(_numbers(page.text_content(element)), ref, atol=1e-6, rtol=0)
    # the page's own exact 2D solver (candidates z_i/|z_i| and equal-margin pairs) agrees
    ref = theory.max_margin(X, labels, "l2").direction
    np.testing.assert_allclose(_numbers(page.text_content("#l2-page")), ref, atol=1e-6)
    page.wait_for_selector("body[data-state='done']", timeout=60_000)
    assert page.text_content("#done-steps") == "100000"
    # GD after 10^5 steps points closer to the l2 direction than to the l_inf one, sign GD
    # the other way round (here l2 and l_inf are 22.75 degrees apart)
    gd_l2, gd_linf = (float(page.text_content(s)[:-1]) for s in ("#gd-l2", "#gd-linf"))
    sg_l2, sg_linf = (float(page.text_content(s)[:-1]) for s in ("#sign-l2", "#sign-linf"))
    assert gd_l2 < gd_linf and sg_linf < sg_l2 and sg_linf < 1.0
    _screenshot(page, tmp_path, "max-margin")

    # a negative point among the positives: no longer separable through the origin
    _click_data(page, 1.0, 1.0, shift=True)
    _wait_api(page, 6)
    assert page.text_content("#separable") == "no"
    assert "not separable" in page.text_content("#status")
    # clicking a point removes it: separable again
    _click_data(page, 1.0, 1.0)
    _wait_api(page, 5)
    assert page.text_content("#separable").startswith("yes")

    # the URL is the state: a fresh page from it shows the same direction
    fresh = page.context.new_page()
    fresh.goto(page.url)
    _wait_api(fresh, 5)
    assert fresh.text_content("#l2-dir") == page.text_content("#l2-dir")
    fresh.close()


def test_runs_page_lists_the_run_and_shows_its_figures(server, page, run_name, runs_root, tmp_path):
    page.goto(server.url + "runs")
    page.wait_for_selector("body[data-state='done']")
    row = page.locator(f"tr[data-run='{run_name}']")
    assert row.count() == 1
    assert "min-norm" in row.text_content() and "holds" in row.text_content()
    row.locator("a.run-link").click()
    page.wait_for_selector("#figures img")
    assert f"run={run_name}" in page.url
    pngs = sorted(p.name for p in (runs_root / run_name).glob("*.png"))
    images = page.locator("#figures img")
    assert images.count() == len(pngs) >= 1
    page.wait_for_function(
        "() => [...document.querySelectorAll('#figures img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    report = page.locator("#detail a", has_text="report").get_attribute("href")
    status, _, body = _request(server, report)
    assert status == 200 and run_name.encode() in body
    _screenshot(page, tmp_path, "runs")


def test_index_page_links_every_page(server, page):
    page.goto(server.url)
    hrefs = page.eval_on_selector_all(".card", "cards => cards.map(c => c.getAttribute('href'))")
    assert hrefs == ["/min-norm", "/flat-sharp", "/max-margin", "/runs", "/profiles"]


def test_bad_url_state_falls_back_to_defaults(server, page):
    # out-of-range or non-numeric URL values are replaced by the defaults, and the URL
    # is rewritten with what the page actually uses
    page.goto(server.url + "flat-sharp?walkers=1000000000&steps=abc&noise=-3&lr=Infinity")
    page.wait_for_selector("body[data-run='1'][data-state='done']", timeout=60_000)
    assert page.input_value("#walkers") == "400" and page.input_value("#steps") == "5000"
    assert "walkers=400&steps=5000" in page.url and "noise=2.5" in page.url
    assert page.text_content("#counts").endswith("of 400")
    page.goto(server.url + "min-norm?x=0,0&w0=1,2,3&lr=-1")
    page.wait_for_selector("body[data-ready='1']")
    assert "w0=-2,-1" in page.url and "lr=0.1" in page.url
    assert "zero vector" in page.text_content("#status")  # x = 0 is valid input, no line
    page.goto(server.url + "max-margin?p=1,2,1;nan,1,1;3,4,7;1e9,0,1&steps=5")
    page.wait_for_function("() => document.getElementById('npoints-api').textContent === '1'")
    assert "p=1,2,1&steps=100000" in page.url
