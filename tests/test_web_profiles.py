"""The explorer's Profiles page and ``GET /api/profiles``, on real smoke profile folders.

Two real profiles are run here (``lab.profile(..., "smoke", probes=["sparsity"])``); copies
of one of them are then altered on disk: one with a step that did not fit, a nearest
reference and an extra probe column (what the page must mark and show), one truncated
``results.json``, one with an entry missing, one of another experiment and one with an
error status. The API must return the real values exactly as ``results.json`` holds them,
list the altered-but-valid copy, skip the corrupt and partial ones with a reason, and
never answer 500. The page is driven in Debian's chromium through playwright (skipped,
with the reason, where ``/usr/bin/chromium`` or playwright is missing), as in
``tests/test_web.py``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from implicitbias import lab
from implicitbias.web import api, make_server, start_in_thread

PROBES = ["sparsity"]  # the fastest probe; every profile here runs only this one
SCREENSHOTS = os.environ.get("IMPLICITBIAS_WEB_SCREENSHOTS")

# ------------------------------------------------------------------------------ fixtures


def _copy(src: Path, name: str) -> Path:
    dst = src.parent / name
    shutil.copytree(src, dst)
    return dst


def _edit_results(folder: Path, edit) -> None:
    path = folder / "results.json"
    results = json.loads(path.read_text())
    edit(results)
    path.write_text(json.dumps(results))


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A runs folder: profiles A (gd, adam) and B (sign_gd), newest B; the altered copies
    of A, older than both. Returned by name (``a``, ``b``, ``c``, ``corrupt``...)."""
    base = tmp_path_factory.mktemp("webprof")
    root = base / "runs"
    a = lab.profile(["gd", "adam"], "smoke", probes=PROBES, out=root).path
    b = lab.profile(["sign_gd"], "smoke", probes=PROBES, out=root).path
    assert a is not None and b is not None
    os.utime(a, (2e9, 2e9))
    os.utime(b, (2e9 + 10, 2e9 + 10))

    def doctor(results):
        table = results["scalars"]["probes"]
        table["sparsity"]["optimizers"]["gd"]["fitted"] = False
        table["sparsity"]["optimizers"]["adam"]["nearest"] = {
            "values": ["linf", "linf"],
            "mode": "linf",
            "agree": 2,
            "n": 2,
            "counts": {"l2": 0, "linf": 2},
        }
        extra = json.loads(json.dumps(table["sparsity"]))
        extra["title"] = "extra probe"
        extra["optimizers"]["adam"]["measures"][extra["optimizers"]["adam"]["headline"]][
            "spread"
        ] = "nan"
        table["extra"] = extra

    folders = {"a": a, "b": b}
    folders["c"] = _copy(a, "profile-smoke-20010101T000000Z-doctor")
    _edit_results(folders["c"], doctor)
    folders["corrupt"] = _copy(a, "profile-smoke-20010101T000000Z-corrupt")
    text = (folders["corrupt"] / "results.json").read_text()
    (folders["corrupt"] / "results.json").write_text(text[: len(text) // 2])
    folders["partial"] = _copy(a, "profile-smoke-20010101T000000Z-partial")
    _edit_results(
        folders["partial"], lambda r: r["scalars"]["probes"]["sparsity"]["optimizers"].pop("gd")
    )
    folders["other"] = _copy(a, "min-norm-smoke-20010101T000000Z-other")
    config = json.loads((folders["other"] / "config.json").read_text())
    config["experiment"] = "min-norm"
    (folders["other"] / "config.json").write_text(json.dumps(config))
    folders["error"] = _copy(a, "profile-smoke-20010101T000000Z-error")
    _edit_results(folders["error"], lambda r: r.update(status="error"))
    for key in ("c", "corrupt", "partial", "other", "error"):
        os.utime(folders[key], (1e9, 1e9))
    (base / "secret.txt").write_text("SECRET")
    return folders


@pytest.fixture(scope="module")
def root(folders) -> Path:
    return folders["a"].parent


@pytest.fixture(scope="module")
def server(root):
    srv = make_server("127.0.0.1", 0, root)
    start_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()


def _request(server, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(server.url.rstrip("/") + path, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _raw_status(server, path: str) -> int:
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        answer = sock.recv(65536)
    return int(answer.split(b" ", 2)[1])


def _api(server) -> dict:
    status, headers, body = _request(server, "/api/profiles")
    assert status == 200 and headers["Content-Type"] == "application/json"
    return json.loads(body)


def _number(value):
    """What the API returns for a results.json number (non-finite ones are "nan" strings)."""
    return value if isinstance(value, int | float) and math.isfinite(value) else None


# ------------------------------------------------------------------------------ the API


def test_api_lists_the_profiles_newest_first_with_the_saved_values(server, folders):
    data = _api(server)
    names = [p["name"] for p in data["profiles"]]
    assert names == [folders["b"].name, folders["a"].name, folders["c"].name]
    assert data["truncated"] is False
    for prof in data["profiles"]:
        results = json.loads((folders["a"].parent / prof["name"] / "results.json").read_text())
        scalars = results["scalars"]
        assert prof["level"] == scalars["level"] == "smoke"
        assert prof["seeds"] == scalars["seeds"]
        assert [(o["key"], o["label"]) for o in prof["optimizers"]] == [
            (k, v["label"]) for k, v in scalars["optimizers"].items()
        ]
        assert all(o["card"] == f"cards/{o['key']}.html" for o in prof["optimizers"])
        assert prof["figures"] == ["heatmap.png", "probes.png"]
        assert [p["name"] for p in prof["probes"]] == list(scalars["probes"])
        for probe in prof["probes"]:
            saved = scalars["probes"][probe["name"]]
            assert probe["title"] == saved["title"]
            assert set(probe["optimizers"]) == set(scalars["optimizers"])
            for key, cell in probe["optimizers"].items():
                entry = saved["optimizers"][key]
                m = entry["measures"][entry["headline"]]
                assert cell["quantity"] == entry["headline"]
                assert cell["label"] == m["label"]
                assert cell["reference"] == m["reference"]
                assert cell["mean"] == _number(m["mean"]) and cell["mean"] is not None
                assert cell["spread"] == _number(m["spread"])
                assert cell["n"] == m["n"]
                assert cell["learning_rate"] == entry["learning_rate"]
                assert cell["fitted"] is entry["fitted"]
                near = entry.get("nearest")
                assert cell["nearest"] == (
                    None if near is None else {k: near[k] for k in ("mode", "agree", "n")}
                )
    doctored = data["profiles"][2]
    assert doctored["probes"][0]["optimizers"]["gd"]["fitted"] is False
    assert doctored["probes"][0]["optimizers"]["adam"]["nearest"] == {
        "mode": "linf",
        "agree": 2,
        "n": 2,
    }
    assert doctored["probes"][1]["optimizers"]["adam"]["spread"] is None  # "nan" on disk


def test_api_skips_corrupt_and_partial_results_and_ignores_other_runs(server, folders):
    data = _api(server)
    skipped = {s["name"]: s["reason"] for s in data["skipped"]}
    assert set(skipped) == {folders["corrupt"].name, folders["partial"].name}
    assert "not valid JSON" in skipped[folders["corrupt"].name]
    assert "optimizers.gd is missing" in skipped[folders["partial"].name]
    listed = {p["name"] for p in data["profiles"]}
    assert not listed & {folders[k].name for k in ("other", "error", "corrupt", "partial")}
    # POST is refused, HEAD answered
    assert _request(server, "/api/profiles", method="POST")[0] == 405
    assert _request(server, "/api/profiles", method="HEAD")[0] == 200


@pytest.mark.parametrize(
    "edit, reason",
    [
        (lambda r: r.update(scalars=[]), "scalars is not an object"),
        (lambda r: r.clear() or r.update(status="ok"), "scalars is not an object"),
        (lambda r: r["scalars"].pop("probes"), "scalars.probes is not an object"),
        (lambda r: r["scalars"].update(optimizers={}), "scalars.optimizers is empty"),
        (
            lambda r: r["scalars"]["optimizers"].update({"../x": {"label": "x"}}),
            "not a plain name",
        ),
        (lambda r: _entry(r).update(headline="nope"), "is not among its measures"),
        (lambda r: _measure(r).update(mean="abc"), ".mean is not a number"),
        (lambda r: _measure(r).update(mean=True), ".mean is not a number"),
        (lambda r: _measure(r).update(n=-1), ".n is not a count"),
        (lambda r: _entry(r).update(fitted="yes"), ".fitted is not true or false"),
        (lambda r: _entry(r).update(nearest={"mode": 3}), ".nearest.mode is not a string"),
        (lambda r: _entry(r).update(measures=None), ".measures is not an object"),
    ],
)
def test_every_kind_of_bad_results_is_skipped_with_its_reason(tmp_path, folders, edit, reason):
    root = tmp_path / "runs"
    root.mkdir()
    good = shutil.copytree(folders["a"], root / folders["a"].name)
    bad = shutil.copytree(folders["a"], root / "profile-smoke-20010101T000000Z-bad")
    _edit_results(bad, edit)
    data = api.list_profiles(root)
    assert [p["name"] for p in data["profiles"]] == [good.name]
    assert [s["name"] for s in data["skipped"]] == [bad.name]
    assert reason in data["skipped"][0]["reason"]


def _entry(results):
    return results["scalars"]["probes"]["sparsity"]["optimizers"]["gd"]


def _measure(results):
    entry = _entry(results)
    return entry["measures"][entry["headline"]]


def test_api_bounds_and_empty_roots(tmp_path, folders, monkeypatch):
    assert api.list_profiles(None)["profiles"] == []
    assert api.list_profiles(tmp_path / "absent")["message"].startswith("no runs folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert api.list_profiles(empty) == {
        "root": str(empty),
        "profiles": [],
        "skipped": [],
        "truncated": False,
    }
    monkeypatch.setattr(api, "MAX_PROFILES", 1)
    data = api.list_profiles(folders["a"].parent)
    assert [p["name"] for p in data["profiles"]] == [folders["b"].name]
    assert data["truncated"] is True
    monkeypatch.setattr(api, "MAX_PROFILES", 10)
    monkeypatch.setattr(api, "MAX_PROFILE_CELLS", 3)  # B has 1 cell, A 2, C 4
    data = api.list_profiles(folders["a"].parent)
    assert [p["name"] for p in data["profiles"]] == [folders["b"].name, folders["a"].name]
    assert data["truncated"] is True
    monkeypatch.setattr(api, "MAX_PROFILE_RESULTS_BYTES", 100)
    data = api.list_profiles(folders["a"].parent)
    assert data["profiles"] == [] and "bytes; at most 100" in data["skipped"][0]["reason"]


def test_deeply_nested_results_are_skipped_not_a_500(tmp_path, folders):
    root = tmp_path / "runs"
    bad = shutil.copytree(folders["a"], root / folders["a"].name)
    (bad / "results.json").write_text("[" * 100_000 + "]" * 100_000)
    data = api.list_profiles(root)
    assert data["profiles"] == [] and "nested too deeply" in data["skipped"][0]["reason"]


def test_cards_and_figures_of_a_profile_are_served(server, folders):
    name = folders["a"].name
    status, headers, body = _request(server, f"/runs/{name}/cards/gd.html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "sandbox" in headers["Content-Security-Policy"]
    assert body == (folders["a"] / "cards" / "gd.html").read_bytes()
    status, headers, _ = _request(server, f"/runs/{name}/heatmap.png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    for path in [
        f"/runs/{name}/cards/../../../secret.txt",
        f"/runs/{name}/cards/%2e%2e/config.json",
        f"/runs/{name}/cards/",
        f"/runs/{name}/cards",
        f"/runs/{name}/cards/nope.html",
    ]:
        assert _raw_status(server, path) == 404, path


# --------------------------------------------------------------------------- the page


def _context(browser, width: int = 1200, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return context, pg, errors


@pytest.fixture
def page(browser):
    context, pg, errors = _context(browser)
    yield pg
    context.close()
    assert not errors, errors  # no script errors, no CSP violations


def _fmt(x: float) -> str:
    """The page's number format (profiles.js ``num``)."""
    if x != 0 and (abs(x) < 1e-2 or abs(x) >= 1e4):
        mantissa, exponent = f"{x:.1e}".split("e")
        return f"{mantissa}e{int(exponent):+d}"
    return repr(float(f"{x:.3g}")).removesuffix(".0")


def _screenshot(pg, tmp_path: Path, name: str) -> None:
    """As in tests/test_web.py: to ``tmp_path``, and to $IMPLICITBIAS_WEB_SCREENSHOTS."""
    target = tmp_path / f"web-{name}.png"
    pg.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, Path(SCREENSHOTS) / target.name)


def test_profiles_page_shows_every_optimizer_row_and_links_its_card(
    server, page, folders, tmp_path
):
    a, b, c = folders["a"].name, folders["b"].name, folders["c"].name
    page.goto(server.url + "profiles")
    page.wait_for_selector("body[data-state='done']")
    assert page.locator("tr.opt-row").count() == 5  # 2 (A) + 1 (B) + 2 (C)
    assert page.locator("tr.run-head").count() == 3
    probes = page.eval_on_selector_all(
        "#profiles-head th[data-probe]", "ths => ths.map(t => t.dataset.probe)"
    )
    assert probes == ["sparsity", "extra"]  # the union over the shown profiles
    assert "3 of 3 profiles shown, 5 optimizer rows" in page.text_content("#status")
    assert "corrupt" in page.text_content("#skipped")

    saved = json.loads((folders["a"] / "results.json").read_text())["scalars"]["probes"]
    entry = saved["sparsity"]["optimizers"]["gd"]
    m = entry["measures"][entry["headline"]]
    cell = page.locator(f"tr.opt-row[data-run='{a}'][data-key='gd'] td[data-probe='sparsity']")
    assert cell.locator(".val").text_content() == f"{_fmt(m['mean'])} ± {_fmt(m['spread'])}"
    assert m["label"] in cell.get_attribute("title")
    missing = page.locator(f"tr.opt-row[data-run='{b}'] td[data-probe='extra']")
    assert missing.text_content() == "—" and "missing" in missing.get_attribute("class")
    nofit = page.locator(f"tr.opt-row[data-run='{c}'][data-key='gd'] td[data-probe='sparsity']")
    assert "nofit" in nofit.get_attribute("class") and "no fit" in nofit.text_content()
    near = page.locator(f"tr.opt-row[data-run='{c}'][data-key='adam'] td[data-probe='sparsity']")
    assert near.locator(".near").text_content() == "linf 2/2"
    _screenshot(page, tmp_path, "profiles")

    heatmap = page.locator(f"tr.run-head[data-run='{a}'] a[data-file='heatmap.png']")
    assert heatmap.get_attribute("href") == f"/runs/{a}/heatmap.png"
    assert _request(server, heatmap.get_attribute("href"))[0] == 200

    link = page.locator(f"tr.opt-row[data-run='{a}'][data-key='adam'] a.card-link")
    assert link.get_attribute("href") == f"/runs/{a}/cards/adam.html"
    with page.context.expect_page() as popup:
        link.click()
    card = popup.value
    card.wait_for_load_state()
    assert card.url == server.url + f"runs/{a}/cards/adam.html"
    assert "adam" in card.content() and "sparsity" in card.content()
    card.close()

    # untick B: its row goes, the choice is in the address bar and survives a reload
    page.locator(f"#choices input[value='{b}']").uncheck()
    assert page.locator("tr.opt-row").count() == 4
    assert f"runs={a},{c}" in page.url
    page.reload()
    page.wait_for_selector("body[data-state='done']")
    assert page.locator("tr.opt-row").count() == 4
    assert not page.locator(f"#choices input[value='{b}']").is_checked()
    page.goto(server.url + f"profiles?runs={b},not-a-run")
    page.wait_for_selector("body[data-state='done']")
    assert page.locator("tr.opt-row").count() == 1
    assert probes_of(page) == ["sparsity"]
    assert "not-a-run" in page.text_content("#status") and page.url.endswith(f"runs={b}")
    page.click("#select-none")
    assert page.locator("tr.opt-row").count() == 0
    assert "no profile selected" in page.text_content("#status")
    page.click("#select-all")
    assert page.locator("tr.opt-row").count() == 5


def probes_of(page) -> list[str]:
    return page.eval_on_selector_all(
        "#profiles-head th[data-probe]", "ths => ths.map(t => t.dataset.probe)"
    )


def test_profiles_page_fits_a_phone(server, browser, tmp_path):
    context, pg, errors = _context(browser, 390, 844)
    try:
        pg.goto(server.url + "profiles")
        pg.wait_for_selector("body[data-state='done']")
        # the page itself does not scroll sideways; the table does, inside its box
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert pg.evaluate("getComputedStyle(document.getElementById('table-box')).overflowX") in (
            "auto",
            "scroll",
        )
        _screenshot(pg, tmp_path, "profiles-phone")
    finally:
        context.close()
    assert not errors, errors


def test_profiles_page_empty_state_says_how_to_make_one(browser, tmp_path):
    empty = tmp_path / "runs"
    empty.mkdir()
    srv = make_server("127.0.0.1", 0, empty)
    start_in_thread(srv)
    context, pg, errors = _context(browser)
    try:
        pg.goto(srv.url + "profiles")
        pg.wait_for_selector("body[data-state='done']")
        assert pg.locator("#empty").is_visible() and not pg.locator("#table-box").is_visible()
        command = f"implicitbias profile gd adam --out {empty.resolve()}"
        assert pg.text_content("#empty-command") == command
        assert command in pg.text_content("#status")
        pg.goto(srv.url)
        assert pg.locator(".card[href='/profiles']").count() == 1
    finally:
        context.close()
        srv.shutdown()
        srv.server_close()
    assert not errors, errors
