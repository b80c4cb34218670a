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
never stops the server. The listings (``/api/runs``, ``/api/profiles``) apply the same rule
as the file server: an entry, or a file of a run folder, whose resolved path (symbolic links
followed) is outside the runs folder is neither read nor listed.

Host check (DNS rebinding). Every request's ``Host`` header must name this server: one of
the loopback names (``localhost``, ``127.0.0.1``, ``::1``), the address it is bound to (and
the name given to ``--host``), or a name on the allow-list (``--allow-host NAME``,
repeatable; ``make_server(allow_hosts=...)``). Anything else is refused with a 403 that
names the Host and says how to allow it, so that a web page elsewhere cannot reach the
server through DNS rebinding, also when it is bound to ``0.0.0.0``. A request with no
``Host`` header (HTTP/1.0) passes.

Load. The numbers, all attributes of :class:`ExplorerServer` (and keywords of
:func:`make_server` where noted):

- the listen queue holds :data:`REQUEST_QUEUE_SIZE` = 128 connections (Python's default
  of 5 made bursts of connections wait for TCP retries, about 1 s each);
- at most :data:`MAX_HANDLER_THREADS` = 64 connections are handled at once (one thread
  each, ``max_threads``); a connection beyond that waits up to :data:`THREAD_WAIT` = 0.5 s
  for a free thread, then is answered ``503`` with ``Retry-After: 1`` and closed;
- at most :data:`MAX_SOLVES` = min(4, CPU count) max-margin solves run at once
  (``max_solves``); a ``POST /api/max-margin`` waits up to :data:`SOLVE_WAIT` = 2 s for a
  slot, then is answered ``503`` with ``Retry-After: 1`` and a JSON error. Invalid bodies
  are refused (4xx) before waiting;
- an idle or stalled connection is closed after 60 s.
"""

from __future__ import annotations

import ipaddress
import json
import mimetypes
import os
import re
import socket
import sys
import threading
import traceback
from collections.abc import Iterable
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
#: Connections the listen queue holds while the server is busy accepting.
REQUEST_QUEUE_SIZE = 128
#: Most connections handled at once (one thread each).
MAX_HANDLER_THREADS = 64
#: Seconds a new connection waits for a free handler thread before a 503.
THREAD_WAIT = 0.5
#: Most max-margin solves running at once.
MAX_SOLVES = max(1, min(4, os.cpu_count() or 1))
#: Seconds a max-margin request waits for a solve slot before a 503.
SOLVE_WAIT = 2.0
#: The ``Retry-After`` (seconds) sent with a 503.
RETRY_AFTER = 1
#: Host names always accepted in the ``Host`` header.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
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


_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def host_name(value: str) -> str:
    """``value`` as an allowed ``Host`` name: a DNS host name or an IP address, lower case,
    without a trailing dot or IPv6 brackets. Raises :class:`ValueError` otherwise (a port,
    a scheme, a path, a wildcard, an empty string)."""
    if not isinstance(value, str):
        raise ValueError(f"not a string: {value!r}")
    name = value.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if name.endswith("."):
        name = name[:-1]
    labels = name.split(".")
    if (
        not name
        or len(name) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()  # 999.1.1.1 is neither an address nor a name
    ):
        raise ValueError(f"not a host name or IP address: {value!r}")
    return name


def _host_of(header: str) -> str:
    """The name part of a ``Host`` header (``[::1]:80`` -> ``::1``, ``a.b:80`` -> ``a.b``)."""
    host = header.strip().lower()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    return host[:-1] if host.endswith(".") else host


class ExplorerServer(ThreadingHTTPServer):
    """The HTTP server; holds the runs folder, the page assets and the load limits."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = REQUEST_QUEUE_SIZE
    #: Seconds a new connection waits for a handler thread before a 503.
    thread_wait = THREAD_WAIT
    #: Seconds a max-margin request waits for a solve slot before a 503.
    solve_wait = SOLVE_WAIT

    def __init__(
        self,
        address: tuple[str, int],
        runs: Path | None,
        *,
        quiet: bool = True,
        allow_hosts: Iterable[str] = (),
        max_threads: int = MAX_HANDLER_THREADS,
        max_solves: int = MAX_SOLVES,
    ) -> None:
        if isinstance(allow_hosts, str):
            allow_hosts = [allow_hosts]
        extra = [host_name(h) for h in allow_hosts]  # ValueError on a bad name
        for what, value in (("max_threads", max_threads), ("max_solves", max_solves)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{what} must be a positive integer, got {value!r}")
        self.runs = Path(runs).resolve() if runs is not None else None
        self.static = static_files()
        self.quiet = quiet
        self.max_threads = max_threads
        self.max_solves = max_solves
        self.thread_slots = threading.BoundedSemaphore(max_threads)
        self.solve_slots = threading.BoundedSemaphore(max_solves)
        #: Connections answered 503 because every handler thread was busy.
        self.busy_refused = 0
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        names = {*LOOPBACK_NAMES, *extra, _host_of(str(self.server_address[0]))}
        if address[0]:
            try:
                names.add(host_name(address[0]))
            except ValueError:
                pass
        #: The names the ``Host`` header may carry (see the module docstring).
        self.allowed_hosts = frozenset(names)

    # ------------------------------------------------------------- handler threads

    def process_request(self, request: Any, client_address: Any) -> None:
        """Hand the connection to a new thread, or answer 503 when ``max_threads`` are busy
        (after waiting ``thread_wait`` seconds for one to finish)."""
        if not self.thread_slots.acquire(timeout=self.thread_wait):
            self.busy_refused += 1
            _answer_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.thread_slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.thread_slots.release()

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


def _answer_busy(request: socket.socket) -> None:
    """A minimal 503 on a connection no thread will handle (from the accepting thread)."""
    body = json.dumps(
        {
            "error": "the server is busy (every handler thread is in use); retry in a moment",
            "status": 503,
        }
    ).encode("utf-8")
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Retry-After: {RETRY_AFTER}\r\n"
        "Cache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Connection: close\r\n\r\n"
    ).encode("latin-1")
    try:
        request.settimeout(0.05)
        try:  # read what the client sent, so that closing does not reset the connection
            request.recv(65536)
        except (TimeoutError, BlockingIOError):
            pass
        request.sendall(head + body)
    except OSError:
        pass


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

    def _json(
        self, status: int, obj: Any, *, head: bool = False, extra: dict[str, str] | None = None
    ) -> None:
        from implicitbias.runs.atomic import to_jsonable

        body = json.dumps(to_jsonable(obj), allow_nan=False).encode("utf-8")
        self._send(status, body, "application/json", head=head, extra=extra)

    def _error(
        self,
        status: int,
        message: str,
        *,
        head: bool = False,
        extra: dict[str, str] | None = None,
    ) -> None:
        self._json(status, {"error": message, "status": status}, head=head, extra=extra)

    def _not_found(self, head: bool = False) -> None:
        self._error(HTTPStatus.NOT_FOUND, f"not found: {self.path[:200]}", head=head)

    def _refused_host(self) -> str | None:
        """The ``Host`` name when it is not one this server answers to, else ``None``."""
        header = self.headers.get("Host")
        if header is None or not header.strip():  # HTTP/1.0 clients may send none
            return None
        name = _host_of(header)
        return None if name in self.server.allowed_hosts else name

    def _host_message(self, name: str) -> str:
        shown = repr(name[:100])
        accepted = ", ".join(sorted(self.server.allowed_hosts))
        try:
            host_name(name)
        except ValueError:
            return (
                f"the Host header {shown} is not a name of this server (it answers to {accepted})"
            )
        return (
            f"the Host header {shown} is not a name of this server (it answers to {accepted}); "
            f"to allow it, start the server with `implicitbias serve --allow-host {name[:100]}`"
        )

    def _dispatch(self, method: str) -> None:
        head = method == "HEAD"
        try:
            refused = self._refused_host()
            if refused is not None:
                self._error(HTTPStatus.FORBIDDEN, self._host_message(refused), head=head)
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
            self._error(exc.status, exc.message, head=head, extra=exc.headers)
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
        api.points_and_labels(payload)  # a bad body is a 4xx at once, never a wait
        slots = self.server.solve_slots
        if not slots.acquire(timeout=self.server.solve_wait):
            raise api.ApiError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"the server is busy: {self.server.max_solves} max-margin solves are running; "
                f"retry in {RETRY_AFTER} s",
                headers={"Retry-After": str(RETRY_AFTER)},
            )
        try:
            result = api.max_margin_api(payload)
        finally:
            slots.release()
        self._json(HTTPStatus.OK, result)

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
    allow_hosts: Iterable[str] = (),
    max_threads: int = MAX_HANDLER_THREADS,
    max_solves: int = MAX_SOLVES,
) -> ExplorerServer:
    """A ready (bound, not yet serving) server; ``port=0`` picks a free port.

    ``allow_hosts``: further names the ``Host`` header may carry (besides the loopback names
    and the bound address); a value that is not a host name or IP address is a
    :class:`ValueError`. ``max_threads`` and ``max_solves``: the load limits of the module
    docstring.
    """
    return ExplorerServer(
        (host, port),
        Path(runs) if runs is not None else None,
        quiet=quiet,
        allow_hosts=allow_hosts,
        max_threads=max_threads,
        max_solves=max_solves,
    )


def start_in_thread(server: ExplorerServer) -> threading.Thread:
    """Serve in a daemon thread (for tests and notebooks); stop with ``server.shutdown()``."""
    thread = threading.Thread(target=server.serve_forever, name="implicitbias-serve", daemon=True)
    thread.start()
    return thread
