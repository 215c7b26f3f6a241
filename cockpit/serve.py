"""`cockpit serve`: the same TUI in a browser tab, through textual-serve.

Serving is a security decision as much as a feature: every browser tab gets a full cockpit,
which starts training runs (processes) as this user. So the server binds to localhost
unless told otherwise and says how to reach it over SSH, warns loudly when exposed, and
refuses websockets opened by other sites' pages (any page may try ws://localhost:PORT).
textual-serve is optional at import time: only `serve_main` imports it.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import shlex
import socket
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from typing import Any
from urllib.parse import urlsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")
_PIP_SPEC = "textual-serve>=1.1.3,<2"


def is_loopback(host: str) -> bool:
    """True when `host` only accepts connections from this machine."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    """`host` as it goes in a URL: IPv6 in brackets, a wildcard as this machine's name."""
    if host in _WILDCARD_HOSTS:
        return socket.gethostname()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def banner(host: str, port: int) -> str:
    """What `cockpit serve` prints on startup: the URL, who can reach it, the SSH way in."""
    url = f"http://{_url_host(host)}:{port}"
    tunnel = f"ssh -L {port}:localhost:{port} user@gpu-box"
    if is_loopback(host):
        reach = f"Bound to {host}, localhost only: other machines cannot connect."
    else:
        reach = f"Listening on {host}: reachable from other machines (see the warning)."
    return "\n".join(
        [
            f"cockpit serve: open {url} in a browser",
            f"  {reach}",
            "  From your laptop, tunnel over SSH:",
            f"      {tunnel}",
            f"  then open http://localhost:{port} there. Ctrl+C stops the server.",
        ]
    )


def exposure_warning(host: str, port: int) -> str:
    """The warning printed when binding to an address other machines can reach."""
    return "\n".join(
        [
            f"WARNING: cockpit serve is listening on {host}:{port}, not just on this machine.",
            "  Anyone who can reach this port gets a full cockpit with no password: it starts",
            "  training runs and other processes as you, a shell in all but name.",
            "  Prefer the default (--host 127.0.0.1) and an SSH tunnel:",
            f"      ssh -L {port}:localhost:{port} user@gpu-box",
        ]
    )


def app_command(extra_args: Sequence[str]) -> str:
    """The shell command each browser session runs: this interpreter's cockpit TUI."""
    argv = [sys.executable, "-m", "cockpit", *extra_args]
    return subprocess.list2cmdline(argv) if sys.platform == "win32" else shlex.join(argv)


def tui_argv(args: argparse.Namespace) -> list[str]:
    """The TUI options of a parsed `cockpit serve` command line, as arguments again."""
    argv: list[str] = []
    for option in ("simulate", "python", "refresh", "place"):
        value = getattr(args, option, None)
        if value is not None:
            argv += [f"--{option}", str(value)]
    return argv


def websocket_allowed(origin: str | None, host_header: str, loopback_only: bool) -> bool:
    """Whether a browser websocket may start a session.

    The page must come from this server (Origin matches Host); a loopback-bound server
    also wants a loopback Host, so a hostile domain re-pointed at 127.0.0.1 (DNS
    rebinding) is refused too. Clients that are not browsers send no Origin.
    """
    if loopback_only and not is_loopback(urlsplit(f"//{host_header}").hostname or ""):
        return False
    return origin is None or urlsplit(origin).netloc.lower() == host_header.lower()


def _bind_error(host: str, port: int) -> OSError | None:
    """The error binding (host, port) gives now, or None when the server can listen."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        return OSError(errno.EADDRNOTAVAIL, f"cannot resolve {host!r}: {error.strerror}")
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does
            try:
                probe.bind(address)
            except OSError as error:
                return error
    return None


def _bind_message(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"cockpit serve: port {port} on {host} is already in use (another cockpit serve?).\n"
            f"  Pick another port with --port N, e.g.: cockpit serve --port {port + 1}"
        )
    return f"cockpit serve: cannot listen on {host}:{port}: {error.strerror or error}"


def _tui_args_error(extra_args: Sequence[str]) -> str | None:
    """Why the TUI would refuse these options (checked once, not in every browser tab)."""
    from cockpit.cli import build_parser
    from cockpit.hardware.simulated import SIMULATED_MACHINES

    try:
        args = build_parser().parse_args(list(extra_args))
    except SystemExit:  # argparse has printed the usage and the error
        return "cockpit serve: invalid cockpit options: " + " ".join(extra_args)
    name = getattr(args, "simulate", None)
    if name is not None and name not in SIMULATED_MACHINES:
        valid = ", ".join(sorted(SIMULATED_MACHINES))
        return f"cockpit serve: unknown simulated GPU {name!r}; choose one of: {valid}"
    return None


@cache
def _server_class() -> type:
    """textual-serve's Server, with the URLs taken from the request and an Origin check."""
    from aiohttp import web
    from textual_serve.server import Server

    class CockpitServer(Server):
        async def handle_index(self, request: web.Request) -> Any:
            # The page's websocket URL must be the address the browser used (an SSH
            # tunnel's local port, the machine's name), not the address bound here.
            self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

        async def handle_websocket(self, request: web.Request) -> Any:
            origin = request.headers.get("Origin")
            if not websocket_allowed(origin, request.host, is_loopback(self.host)):
                raise web.HTTPForbidden(text="cockpit serve: cross-origin session refused\n")
            return await super().handle_websocket(request)

        async def on_startup(self, app: web.Application) -> None:
            print(banner(self.host, self.port), flush=True)

    return CockpitServer


def serve_main(host: str, port: int, extra_args: list[str]) -> int:
    """Serve the cockpit TUI (with `extra_args`, e.g. --simulate NAME) until Ctrl+C."""
    try:
        import textual_serve.server  # noqa: F401
    except ImportError:
        command = f"{shlex.quote(sys.executable)} -m pip install '{_PIP_SPEC}'"
        print(
            f"cockpit serve needs textual-serve, which is not installed:\n    {command}",
            file=sys.stderr,
        )
        return 2
    problem = _tui_args_error(extra_args)
    if problem is None and (error := _bind_error(host, port)) is not None:
        problem = _bind_message(host, port, error)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    if not is_loopback(host):
        print(exposure_warning(host, port), file=sys.stderr, flush=True)
    server = _server_class()(app_command(extra_args), host=host, port=port, title="cockpit")
    try:
        server.serve()
    except OSError as error:  # lost a race for the port after the check above
        print(_bind_message(host, port, error), file=sys.stderr)
        return 2
    return 0


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cockpit.serve",
        description="Serve cockpit in a browser; other options go to the TUI (--simulate NAME).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N", help="default 8000")
    args, extra = parser.parse_known_args(argv)
    return serve_main(args.host, args.port, extra)


if __name__ == "__main__":
    raise SystemExit(_main())
