"""`cockpit serve` without a browser: what it says, what it refuses, what it runs."""

from __future__ import annotations

import argparse
import socket
import sys

import pytest

from cockpit import serve
from cockpit.cli import build_parser


class _FakeServer:
    """Stands in for textual-serve's server: records what it was asked to serve."""

    def __init__(self, command: str, host: str, port: int, title: str) -> None:
        self.command, self.host, self.port = command, host, port

    def serve(self) -> None:
        print(serve.banner(self.host, self.port))


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
    text = serve.banner("127.0.0.1", 8000)
    assert "http://127.0.0.1:8000" in text
    assert "localhost only" in text
    assert "ssh -L 8000:localhost:8000 user@gpu-box" in text
    assert "open http://localhost:8000" in text
    text.encode("ascii")  # a gbk or cp1252 console prints it without UnicodeEncodeError


def test_serves_this_interpreters_cockpit_with_the_tui_options(fake_server, capsys) -> None:
    port = _free_port()
    assert serve.serve_main("127.0.0.1", port, ["--simulate", "rtx3050-4gb"]) == 0
    (server,) = fake_server
    assert server.command.startswith(sys.executable)
    assert server.command.endswith("-m cockpit --simulate rtx3050-4gb")
    out, err = capsys.readouterr()
    assert f"http://127.0.0.1:{port}" in out
    assert "WARNING" not in err


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
        (None, "127.0.0.1:8000", True, True),  # not a browser
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
