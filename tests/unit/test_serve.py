"""`cockpit serve` without a browser: what it says, what it refuses, what it runs."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from cockpit import __version__
from cockpit.cli import serve
from cockpit.cli.parser import build_parser

KEY = "s3cret-Key_0123456789abcdef"


class _FakeServer:
    """Stands in for textual-serve's server: records what it was asked to serve."""

    def __init__(self, command: str, host: str, port: int, title: str, key: str) -> None:
        self.command, self.host, self.port, self.key = command, host, port, key

    def serve(self) -> None:
        print(serve.banner(self.host, self.port, self.key))


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> list[_FakeServer]:
    made: list[_FakeServer] = []

    def make(*args: object, **kwargs: object) -> _FakeServer:
        made.append(_FakeServer(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(serve, "_server_class", lambda: make)
    return made


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_default_banner_gives_the_url_and_the_ssh_tunnel() -> None:
    text = serve.banner("127.0.0.1", 8000, KEY)
    assert f"open http://127.0.0.1:8000/?key={KEY} in a browser" in text
    assert "localhost only" in text
    assert "ssh -L 8000:localhost:8000 user@gpu-box" in text
    assert f"open http://localhost:8000/?key={KEY} there" in text
    text.encode("ascii")  # a gbk or cp1252 console prints it without UnicodeEncodeError


def test_serves_this_interpreters_cockpit_with_the_tui_options(fake_server, capsys) -> None:
    port = _free_port()
    assert serve.serve_main("127.0.0.1", port, ["--simulate", "rtx3050-4gb"]) == 0
    (server,) = fake_server
    assert server.command.startswith(shlex.quote(sys.executable))
    assert server.command.endswith(" cockpit --simulate rtx3050-4gb")
    out, err = capsys.readouterr()
    assert f"http://127.0.0.1:{port}/?key={server.key}" in out
    assert len(server.key) >= 32
    assert "WARNING" not in err


def test_each_server_has_its_own_key(fake_server) -> None:
    for _ in range(2):
        assert serve.serve_main("127.0.0.1", _free_port(), []) == 0
    assert fake_server[0].key != fake_server[1].key


def test_a_reachable_address_gets_a_loud_warning(fake_server, capsys) -> None:
    assert serve.serve_main("0.0.0.0", _free_port(), []) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err
    assert "Anyone who can reach this port" in err
    assert "starts" in err and "training runs" in err
    assert "--host 127.0.0.1" in err


def test_a_busy_port_is_named_with_the_way_out(fake_server, capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert serve.serve_main("127.0.0.1", port, []) == 2
    err = capsys.readouterr().err
    assert f"port {port}" in err and "already in use" in err
    assert "--port N" in err
    assert "Traceback" not in err
    assert fake_server == []


def test_missing_textual_serve_gives_the_pip_command(monkeypatch, fake_server, capsys) -> None:
    monkeypatch.setitem(sys.modules, "textual_serve", None)
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert serve.serve_main("127.0.0.1", _free_port(), []) == 2
    err = capsys.readouterr().err
    assert f"{sys.executable} -m pip install 'textual-serve" in err
    assert fake_server == []


def test_an_unknown_simulation_is_refused_before_serving(fake_server, capsys) -> None:
    assert serve.serve_main("127.0.0.1", _free_port(), ["--simulate", "rtx9999"]) == 2
    err = capsys.readouterr().err
    assert "'rtx9999'" in err and "rtx3050-4gb" in err
    assert fake_server == []


@pytest.mark.parametrize(
    ("origin", "host", "loopback_only", "allowed"),
    [
        ("http://localhost:8000", "localhost:8000", True, True),  # the page we served
        ("http://localhost:9000", "localhost:9000", True, True),  # through an SSH tunnel
        (None, "127.0.0.1:8000", True, True),  # not a browser: the key is its credential
        ("http://evil.example", "localhost:8000", True, False),  # another site's page
        ("http://evil.example:8000", "evil.example:8000", True, False),  # DNS rebinding
        ("http://gpu-box:8000", "gpu-box:8000", False, True),  # --host 0.0.0.0
        ("http://evil.example", "gpu-box:8000", False, False),
    ],
)
def test_only_our_own_page_may_open_a_session(origin, host, loopback_only, allowed) -> None:
    assert serve.websocket_allowed(origin, host, loopback_only) is allowed


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False),
     ("192.168.1.5", False), ("gpu-box", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert serve.is_loopback(host) is loopback


def test_tui_options_survive_the_trip_to_the_served_app() -> None:
    args = argparse.Namespace(simulate="rtx3050-4gb", python=None, refresh=2.0, place="doctor")
    parsed = build_parser().parse_args(serve.tui_argv(args))
    assert (parsed.simulate, parsed.python, parsed.refresh, parsed.place) == (
        "rtx3050-4gb",
        None,
        2.0,
        "doctor",
    )


@pytest.mark.parametrize(
    ("path", "query", "presented"),
    [
        ("/", {"key": KEY}, KEY),
        ("/", {}, ""),
        ("/ws", {"width": "80"}, ""),
        (f"/ws/{KEY}", {"width": "80"}, KEY),
        ("/anything", {}, ""),
        ("/static/js/textual.js", {}, None),
        ("/download/abc", {}, None),
    ],
)
def test_which_requests_need_the_key(path, query, presented) -> None:
    assert serve.presented_key(path, query) == presented


def test_the_key_must_match_exactly() -> None:
    assert serve.key_matches(KEY, KEY)
    for other in ("", KEY[:-1], KEY + "x", KEY.upper(), "é" * 5):
        assert not serve.key_matches(other, KEY)


async def _accept_without_app(self: object, request: web.Request) -> web.WebSocketResponse:
    """textual-serve's session handler minus the app: the handshake is what is tested here."""
    websocket = web.WebSocketResponse()
    await websocket.prepare(request)
    await websocket.close()
    return websocket


async def _serve_and_probe(key: str) -> dict[str, object]:
    """A CockpitServer on a free port, probed the way another local program could."""
    from aiohttp.test_utils import TestServer

    server = serve._server_class()("true", host="127.0.0.1", port=0, title="cockpit", key=key)
    seen: dict[str, object] = {}
    async with TestServer(await server._make_app(), host="127.0.0.1") as http_server:
        base = str(http_server.make_url("")).rstrip("/")
        async with aiohttp.ClientSession(skip_auto_headers=["Origin"]) as http:
            for name, path in (("page", "/"), ("wrong", "/?key=nope"), ("keyed", f"/?key={key}")):
                async with http.get(base + path) as reply:
                    seen[name] = (reply.status, await reply.text())
            for name, path in (("ws", "/ws"), ("ws_wrong", "/ws/nope"), ("ws_key", f"/ws/{key}")):
                try:
                    ws = await http.ws_connect(f"{base}{path}?width=80&height=24")
                except aiohttp.WSServerHandshakeError as refused:
                    seen[name] = refused.status
                else:
                    seen[name] = 101
                    await ws.close()
    return seen


def test_a_client_without_origin_needs_the_servers_key(monkeypatch, capsys) -> None:
    from textual_serve.server import Server

    monkeypatch.setattr(Server, "handle_websocket", _accept_without_app)
    seen = asyncio.run(_serve_and_probe(KEY))
    assert seen["page"] == (403, serve.KEY_REFUSED)
    assert "URL printed by `cockpit serve`" in serve.KEY_REFUSED
    assert seen["wrong"] == (403, serve.KEY_REFUSED)
    status, page = seen["keyed"]
    assert status == 200 and f'/ws/{KEY}"' in page
    assert (seen["ws"], seen["ws_wrong"], seen["ws_key"]) == (403, 403, 101)


@pytest.mark.slow
@pytest.mark.parametrize("safe_path", [True, False], ids=["-P", "3.10 -c"])
def test_a_cockpit_package_in_the_current_folder_never_runs(tmp_path: Path, safe_path) -> None:
    if safe_path and sys.version_info < (3, 11):
        pytest.skip("-P needs Python 3.11")
    marker = tmp_path / "planted-ran"
    planted = tmp_path / "cockpit"
    planted.mkdir()
    (planted / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (planted / "__main__.py").write_text("print('planted cockpit')\n")
    (planted / "cli.py").write_text("def main():\n    print('planted cockpit')\n")
    argv = serve.app_argv(["--version"], safe_path=safe_path)
    done = subprocess.run(argv, cwd=planted.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"cockpit {__version__}"
    assert not marker.exists()


@pytest.mark.slow
def test_sessions_start_when_served_from_a_checkouts_parent(tmp_path: Path) -> None:
    """`cockpit serve` run beside a `cockpit/` folder that is not a package (a checkout)."""
    (tmp_path / "cockpit" / "docs").mkdir(parents=True)
    command = serve.app_command(["--version"])  # the shell command textual-serve runs
    done = subprocess.run(
        command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"cockpit {__version__}"
