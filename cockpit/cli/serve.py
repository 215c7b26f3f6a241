"""`cockpit serve`: the same TUI in a browser tab, through textual-serve.

Serving is a security decision as much as a feature: every browser tab gets a full cockpit,
which starts training runs (processes) as this user. So the server binds to localhost
unless told otherwise and says how to reach it over SSH, warns loudly when exposed, and
wants a per-server secret in every page and websocket URL (other local accounts can reach
localhost too), refusing websockets opened by other sites' pages as well (any page may try
ws://localhost:PORT). Each session runs this interpreter's cockpit with the current folder
kept off `sys.path`, so a `./cockpit/` planted there never runs as the serving user.
textual-serve is optional at import time: only `serve_main` imports it.
"""

from __future__ import annotations

import argparse
import errno
import hmac
import ipaddress
import secrets
import shlex
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")
_PIP_SPEC = "textual-serve>=1.1.3,<2"
KEY_REFUSED = (
    "cockpit serve: this address needs the server's key; "
    "open the URL printed by `cockpit serve` (it ends in ?key=...)\n"
)
# Python 3.10 has no -P: drop the current folder from sys.path before importing cockpit.
_SAFE_MAIN = (
    "import os, sys; sys.path[:] = [p for p in sys.path if p not in ('', os.getcwd())]; "
    "from cockpit.cli.main import main; sys.exit(main())"
)


def new_key() -> str:
    """A fresh per-server secret: every session must present it (in the URL)."""
    return secrets.token_urlsafe(24)


def key_matches(presented: str | None, key: str) -> bool:
    """Whether `presented` is the server's key, compared in constant time."""
    return presented is not None and hmac.compare_digest(presented.encode(), key.encode())


def presented_key(path: str, query: Mapping[str, str]) -> str | None:
    """The key a request carries: `/?key=K` for the page, `/ws/K` for the websocket.

    None for the paths that need none: static files (the page's script and styles) and
    downloads (their own unguessable keys, handed out over an authenticated websocket).
    """
    if path.startswith(("/static/", "/download/")):
        return None
    if path == "/ws" or path.startswith("/ws/"):
        return path[len("/ws/") :]
    return query.get("key", "")


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


def banner(host: str, port: int, key: str) -> str:
    """What `cockpit serve` prints on startup: the URL, who can reach it, the SSH way in."""
    url = f"http://{_url_host(host)}:{port}/?key={quote(key)}"
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
            f"  then open http://localhost:{port}/?key={quote(key)} there.",
            "  The key in the URL is this server's password: share it with no one.",
            "  Ctrl+C stops the server.",
        ]
    )


def exposure_warning(host: str, port: int) -> str:
    """The warning printed when binding to an address other machines can reach."""
    return "\n".join(
        [
            f"WARNING: cockpit serve is listening on {host}:{port}, not just on this machine.",
            "  Anyone who can reach this port and sees the URL's key (plain HTTP: anyone on the",
            "  path can read it) gets a full cockpit: it starts training runs and other",
            "  processes as you, a shell in all but name.",
            "  Prefer the default (--host 127.0.0.1) and an SSH tunnel:",
            f"      ssh -L {port}:localhost:{port} user@gpu-box",
        ]
    )


def app_argv(extra_args: Sequence[str], *, safe_path: bool | None = None) -> list[str]:
    """Each browser session's command: this interpreter's cockpit, the CWD off sys.path.

    `-P` (Python 3.11+) or, on 3.10, a `-c` that removes it before importing cockpit: a
    `./cockpit/` in the folder `cockpit serve` runs from is never imported.
    """
    if safe_path is None:
        safe_path = sys.version_info >= (3, 11)
    start = ["-P", "-m", "cockpit"] if safe_path else ["-c", _SAFE_MAIN]
    return [sys.executable, *start, *extra_args]


def app_command(extra_args: Sequence[str]) -> str:
    """`app_argv` as the shell command textual-serve runs for each browser session."""
    argv = app_argv(extra_args)
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
    rebinding) is refused too. Clients that are not browsers send no Origin: for them the
    server's key (checked first, for every client) is the credential.
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
    from cockpit.cli.parser import build_parser
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


def _keyed_app(server: Any) -> Any:
    """textual-serve's routes for `server`, the websocket's path holding its key, and a
    check of the key on every request that needs one."""
    import aiohttp_jinja2
    import jinja2
    from aiohttp import web

    @web.middleware
    async def require_key(request: web.Request, handler: Any) -> Any:
        presented = presented_key(request.path, request.query)
        if presented is not None and not key_matches(presented, server.key):
            raise web.HTTPForbidden(text=KEY_REFUSED)
        return await handler(request)

    app = web.Application(middlewares=[require_key])
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(server.templates_path))
    app.add_routes(
        [
            web.get("/", server.handle_index, name="index"),
            web.get(f"/ws/{server.key}", server.handle_websocket, name="websocket"),
            web.get("/download/{key}", server.handle_download, name="download"),
            web.static("/static", server.statics_path, name="static"),
        ]
    )
    app.on_startup.append(server.on_startup)
    app.on_shutdown.append(server.on_shutdown)
    return app


@cache
def _server_class() -> type:
    """textual-serve's Server with a key on every page and websocket, and an Origin check.

    The page is `/?key=K`; its websocket is `/ws/K` (textual-serve's page script appends
    `?width=…` to the websocket URL, so the key goes in the path there).
    """
    from aiohttp import web
    from textual_serve.server import Server

    class CockpitServer(Server):
        def __init__(self, *args: Any, key: str, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.key = key

        async def _make_app(self) -> web.Application:
            return _keyed_app(self)

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
            print(banner(self.host, self.port, self.key), flush=True)

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
    server = _server_class()(
        app_command(extra_args), host=host, port=port, title="cockpit", key=new_key()
    )
    try:
        server.serve()
    except OSError as error:  # lost a race for the port after the check above
        print(_bind_message(host, port, error), file=sys.stderr)
        return 2
    return 0


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cockpit.cli.serve",
        description="Serve cockpit in a browser; other options go to the TUI (--simulate NAME).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N", help="default 8000")
    args, extra = parser.parse_known_args(argv)
    return serve_main(args.host, args.port, extra)


if __name__ == "__main__":
    raise SystemExit(_main())
