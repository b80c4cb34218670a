"""``implicitbias serve``: a local web server for the explorer pages and the run folders.

Standard library only (:class:`http.server.ThreadingHTTPServer`). What it serves:

======================================  ===============================================
``/``, ``/min-norm``, ``/flat-sharp``,   the pages (``static/*.html``); their state lives
``/max-margin``, ``/runs``,              in the query string, so a view can be shared
``/profiles``
``/static/<name>``                       the pages' scripts and styles (a fixed list)
``POST /api/max-margin``                 separability and l2 / l_inf max-margin solutions
``GET /api/runs``                        the run folders under ``--runs``
``GET /api/profiles``                    the finished profile runs under ``--runs``, their
                                         headline entries per probe and optimizer
``/runs/<folder>/<file>``                a figure, report or JSON file of a run folder, or
                                         of a subfolder (``cards/<key>.html``);
                                         ``report.html`` is rendered if the folder has none
======================================  ===============================================

Anything else is a 404, including paths that leave the runs folder (``..``, encoded
slashes, symbolic links pointing outside). API errors are JSON ``{"error": message}``
with a 4xx status; an unexpected exception in one request is answered with a 500 and
never stops the server. When bound to a loopback address (the default), requests whose
``Host`` header names another host are refused (403), so that a web page elsewhere cannot
reach the server through DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import json
import mimetypes
import socket
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from implicitbias.web import api

STATIC = Path(__file__).resolve().parent / "static"
PAGES = {
    "/": "index.html",
    "/min-norm": "min-norm.html",
    "/flat-sharp": "flat-sharp.html",
    "/max-margin": "max-margin.html",
    "/runs": "runs.html",
    "/profiles": "profiles.html",
}
#: Largest request body accepted (bytes).
MAX_BODY = 256 * 1024
_PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Files from the runs folder may be anything (an SVG may carry scripts): nothing runs.
_FILE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
}


def static_files(folder: Path = STATIC) -> dict[str, Path]:
    """The page assets, by file name (fixed when the server starts)."""
    return {p.name: p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


def safe_child(root: Path, relative: str) -> Path | None:
    """``root/relative`` if it is an existing, non-hidden file inside ``root``, else None.

    ``relative`` is the already percent-decoded remainder of the URL path. Refused: empty
    parts, ``.`` and ``..``, hidden names, backslashes, NUL, and anything whose resolved
    path (symbolic links followed) is not inside the resolved ``root``.
    """
    if not relative or "\\" in relative or "\x00" in relative:
        return None
    parts = relative.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    try:
        base = root.resolve(strict=True)
        target = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or target == base:
        return None
    return target


class ExplorerServer(ThreadingHTTPServer):
    """The HTTP server; holds the runs folder and the page assets."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], runs: Path | None, *, quiet: bool = True) -> None:
        self.runs = Path(runs).resolve() if runs is not None else None
        self.static = static_files()
        self.quiet = quiet
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/"

    def is_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.server_address[0]).is_loopback
        except ValueError:
            return False


class Handler(BaseHTTPRequestHandler):
    """Routes a request to a page, an asset, the API or a run folder file."""

    server: ExplorerServer
    server_version = "implicitbias"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds: an idle or stalled connection does not hold a thread forever

    # ------------------------------------------------------------------ plumbing

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        if not self.server.quiet:
            super().log_message(format, *args)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        csp: str | None = _PAGE_CSP,
        head: bool = False,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if csp:
            self.send_header("Content-Security-Policy", csp)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, *, head: bool = False) -> None:
        from implicitbias.runs.atomic import to_jsonable

        body = json.dumps(to_jsonable(obj), allow_nan=False).encode("utf-8")
        self._send(status, body, "application/json", head=head)

    def _error(self, status: int, message: str, *, head: bool = False) -> None:
        self._json(status, {"error": message, "status": status}, head=head)

    def _not_found(self, head: bool = False) -> None:
        self._error(HTTPStatus.NOT_FOUND, f"not found: {self.path[:200]}", head=head)

    def _host_allowed(self) -> bool:
        if not self.server.is_loopback():
            return True
        host = (self.headers.get("Host") or "").strip().lower()
        if not host:  # HTTP/1.0 clients may send none; browsers always do
            return True
        if host.startswith("["):
            name = host[1:].split("]", 1)[0]
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return name in ("localhost", "127.0.0.1", "::1") or name == self.server.server_address[0]

    def _dispatch(self, method: str) -> None:
        head = method == "HEAD"
        try:
            if not self._host_allowed():
                self._error(
                    HTTPStatus.FORBIDDEN,
                    "the Host header must name this machine (localhost or 127.0.0.1)",
                    head=head,
                )
                return
            parts = urlsplit(self.path)
            path = parts.path
            if method == "POST":
                self._route_post(path)
            else:
                self._route_get(path, head)
        except api.ApiError as exc:
            if method != "GET" and method != "HEAD":
                self.close_connection = True  # an unread body must not become a request
            self._error(exc.status, exc.message, head=head)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # noqa: BLE001 - one bad request must not stop the server
            if not self.server.quiet:
                traceback.print_exc(file=sys.stderr)
            try:
                self._error(
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    f"internal error: {type(exc).__name__}: {exc}"[:500],
                    head=head,
                )
            except OSError:
                pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._dispatch("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _refuse(self) -> None:
        self._dispatch("OTHER")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse  # noqa: N815

    # ------------------------------------------------------------------ routes

    def _route_get(self, path: str, head: bool) -> None:
        if self.command not in ("GET", "HEAD"):
            raise api.ApiError(
                HTTPStatus.METHOD_NOT_ALLOWED, f"method {self.command} is not allowed here"
            )
        if path in PAGES:
            self._static(PAGES[path], head)
        elif path.startswith("/static/"):
            self._static(unquote(path[len("/static/") :]), head)
        elif path == "/api/runs":
            self._json(HTTPStatus.OK, api.list_runs(self.server.runs), head=head)
        elif path == "/api/profiles":
            self._json(HTTPStatus.OK, api.list_profiles(self.server.runs), head=head)
        elif path.startswith("/api/"):
            if path == "/api/max-margin":
                raise api.ApiError(
                    HTTPStatus.METHOD_NOT_ALLOWED, "use POST with a JSON body for /api/max-margin"
                )
            self._not_found(head)
        elif path.startswith("/runs/"):
            self._run_file(unquote(path[len("/runs/") :]), head)
        elif path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon", head=head)
        else:
            self._not_found(head)

    def _route_post(self, path: str) -> None:
        if path != "/api/max-margin":
            if path in PAGES or path.startswith(
                ("/static/", "/runs/", "/api/runs", "/api/profiles")
            ):
                raise api.ApiError(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"POST is not allowed on {path[:100]}"
                )
            raise api.ApiError(HTTPStatus.NOT_FOUND, f"not found: {path[:200]}")
        payload = self._read_json_body()
        self._json(HTTPStatus.OK, api.max_margin_api(payload))

    def _read_json_body(self) -> Any:
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise api.ApiError(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required")
        try:
            length = int(length_text)
        except ValueError:
            raise api.bad("Content-Length", "an integer", length_text) from None
        if length < 0:
            raise api.bad("Content-Length", "a non-negative integer", length_text)
        if length > MAX_BODY:
            # Drop the connection afterwards: the unread body must not be parsed as a request.
            self.close_connection = True
            raise api.ApiError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the request body is {length} bytes; at most {MAX_BODY}",
            )
        raw = self.rfile.read(length)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise api.bad(
                "Content-Type",
                "application/json",
                ctype or None,
                status=HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            )
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise api.ApiError(
                HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {exc}"
            ) from None
        except RecursionError:
            raise api.ApiError(
                HTTPStatus.BAD_REQUEST, "the body is nested too deeply to be a max-margin request"
            ) from None

    def _static(self, name: str, head: bool) -> None:
        path = self.server.static.get(name)
        if path is None:
            self._not_found(head)
            return
        body = path.read_bytes()
        self._send(HTTPStatus.OK, body, _content_type(path), head=head)

    def _run_file(self, relative: str, head: bool) -> None:
        root = self.server.runs
        if root is None:
            self._not_found(head)
            return
        target = safe_child(root, relative)
        if target is None and relative.endswith("/report.html"):
            folder = safe_child(root, relative[: -len("/report.html")])
            if folder is not None and folder.is_dir() and (folder / "config.json").is_file():
                body = api.render_run_report(folder).encode("utf-8")
                self._send(HTTPStatus.OK, body, _TYPES[".html"], csp=_FILE_CSP, head=head)
                return
        if target is None or not target.is_file() or target.suffix not in api.SERVED_SUFFIXES:
            self._not_found(head)
            return
        self._send(
            HTTPStatus.OK, target.read_bytes(), _content_type(target), csp=_FILE_CSP, head=head
        )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _content_type(path: Path) -> str:
    return (
        _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def make_server(
    host: str = "127.0.0.1",
    port: int = 8765,
    runs: str | Path | None = "runs",
    *,
    quiet: bool = True,
) -> ExplorerServer:
    """A ready (bound, not yet serving) server; ``port=0`` picks a free port."""
    return ExplorerServer((host, port), Path(runs) if runs is not None else None, quiet=quiet)


def start_in_thread(server: ExplorerServer) -> threading.Thread:
    """Serve in a daemon thread (for tests and notebooks); stop with ``server.shutdown()``."""
    thread = threading.Thread(target=server.serve_forever, name="implicitbias-serve", daemon=True)
    thread.start()
    return thread
