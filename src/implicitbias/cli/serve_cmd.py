"""``implicitbias serve``: the local web explorer (pages and run folders)."""

from __future__ import annotations

import argparse
import sys

from implicitbias.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="local web explorer: interactive pages and run folders",
        description="Serve the explorer pages (minimum-norm, flat vs sharp "
        "minima, max-margin) and the run folders under --runs. "
        "Stop with Ctrl-C.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument(
        "--runs",
        default="runs",
        metavar="DIR",
        help="the folder of run folders to list (default: runs)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a further name the Host header may carry (a host name or IP address; "
        "repeatable). Always allowed: localhost, 127.0.0.1, ::1 and the --host address; "
        "other Host names are refused (403), against DNS rebinding",
    )
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    from implicitbias.web import make_server
    from implicitbias.web.server import host_name

    if not 0 <= args.port <= 65535:
        raise ConfigError("--port", "an integer in [0, 65535]", args.port)
    allow_hosts = []
    for value in args.allow_host:
        try:
            allow_hosts.append(host_name(value))
        except ValueError:
            raise ConfigError(
                "--allow-host",
                "a host name or IP address without port or scheme (e.g. mybox.lan, 192.168.1.5)",
                value,
            ) from None
    try:
        server = make_server(
            args.host, args.port, args.runs, quiet=not args.verbose, allow_hosts=allow_hosts
        )
    except OSError as exc:
        raise ConfigError(
            "--host/--port",
            "an address this machine can bind",
            f"{args.host}:{args.port} ({exc.strerror or exc})",
        ) from None
    if not server.is_loopback():
        names = ", ".join(sorted(server.allowed_hosts))
        print(
            f"warning: listening on {args.host}, reachable from other machines; "
            f"Host names answered: {names} (add one with --allow-host NAME)",
            file=sys.stderr,
        )
    print(f"implicitbias explorer: {server.url}  (runs: {server.runs}; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0
