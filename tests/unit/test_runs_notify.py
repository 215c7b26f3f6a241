"""Run-end notifications: sent by the run's reaper (cockpit closed) through apprise."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cockpit.runs.store import load_run
from cockpit.runs.supervisor import start_run
from tests.runs_helpers import TINY, cockpit, wait_for

pytestmark = pytest.mark.slow  # every test here starts processes (tests/unit/conftest.py)

pytest_plugins = ["tests.runs_fixtures"]


class _Inbox(ThreadingHTTPServer):
    """A local endpoint that keeps what apprise's json:// posts to it."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[dict] = []

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.server.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        """Quiet: pytest shows what a failing test printed."""


@pytest.fixture
def inbox() -> Iterator[_Inbox]:
    server = _Inbox()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def notify_to(tmp_path, monkeypatch):
    """Write settings.toml with these `[notify] urls` in a config folder of the test's own."""
    config = tmp_path / "config"
    monkeypatch.setenv("COCKPIT_CONFIG_DIR", str(config))

    def write(*urls: str) -> None:
        config.mkdir(exist_ok=True)
        listed = ", ".join(json.dumps(url) for url in urls)
        (config / "settings.toml").write_text(f"[notify]\nurls = [{listed}]\n")

    return write


def _notified(run_id: str) -> dict:
    def outcome():
        return json.loads(load_run(run_id).run_dir.joinpath("run.json").read_text()).get("notified")

    return wait_for(outcome, 60, "the reaper's notification")


def test_a_failed_run_tells_its_verdict_and_known_problem_with_cockpit_closed(
    fake_engine, notify_to, inbox
):
    notify_to(inbox.url)
    fake_engine("steps=2,then=oom")
    run = start_run(TINY, gpu_sizes_gib=())  # nothing of cockpit stays to watch it
    outcome = _notified(run.id)
    assert outcome["ok"] is True and "error" not in outcome
    assert len(inbox.received) == 1  # one notification per ending
    sent = inbox.received[0]
    assert sent["type"] == "failure"
    assert sent["title"] == f"cockpit: run failed · {run.id}"
    assert "step 2/2" in sent["message"] and "last loss 1.5000" in sent["message"]
    assert "Known problem (log line" in sent["message"]
    assert "CUDA out of memory" in sent["message"]
    assert "Fix: Reduce memory per step" in sent["message"]
    assert load_run(run.id).status == "failed"


def test_a_finished_run_says_so_with_its_adapter(fake_engine, notify_to, inbox):
    notify_to(inbox.url)
    fake_engine("steps=3")
    run = start_run(TINY, gpu_sizes_gib=())
    assert _notified(run.id)["ok"] is True
    sent = inbox.received[0]
    assert (sent["type"], sent["title"]) == ("success", f"cockpit: run finished · {run.id}")
    assert "step 3/3" in sent["message"] and f"Adapter: {run.adapter}" in sent["message"]
    assert "Cause" not in sent["message"]


def test_a_failed_delivery_is_recorded_in_the_run_and_changes_nothing_else(
    fake_engine, notify_to, inbox
):
    port = inbox.server_address[1]
    inbox.shutdown()
    inbox.server_close()  # nobody answers there now
    notify_to(f"json://cockpit:s3cr3t-pa55@127.0.0.1:{port}/", "not-a-url://")
    fake_engine("steps=2")
    run = start_run(TINY, gpu_sizes_gib=())
    outcome = _notified(run.id)
    assert outcome["ok"] is False and outcome["to"] == 2
    assert outcome["error"]  # says what went wrong …
    assert "s3cr3t-pa55" not in json.dumps(outcome)  # … without the URL's password
    summary = load_run(run.id)
    assert summary.status == "finished" and summary.exit_code == 0


def test_no_urls_no_notification_and_no_record(fake_engine, runs_dir, notify_to):
    notify_to()
    fake_engine("steps=1")
    run = start_run(TINY, gpu_sizes_gib=())
    wait_for(lambda: load_run(run.id).exit_code is not None, 60, "the recorded exit")
    assert "notified" not in json.loads(run.run_json.read_text())


def test_cockpit_notify_tries_the_urls_and_sends_a_runs_ending_again(fake_engine, notify_to, inbox):
    notify_to()
    said = cockpit("notify")
    assert said.returncode == 1 and '[notify]\nurls = ["ntfy://my-topic"]' in said.stdout
    notify_to(inbox.url)
    said = cockpit("notify")
    assert said.returncode == 0 and said.stdout.strip() == "Sent to 1 URL: json://…"
    assert inbox.received[-1]["title"] == "cockpit: test notification"
    fake_engine("steps=1")
    run = start_run(TINY, gpu_sizes_gib=())
    _notified(run.id)  # the reaper's
    assert cockpit("notify", run.id[:-1]).returncode == 0  # a unique prefix will do
    assert [m["title"] for m in inbox.received[-2:]] == [f"cockpit: run finished · {run.id}"] * 2
