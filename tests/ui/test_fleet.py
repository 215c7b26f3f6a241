"""The Hardware place's fleet view (f, with [[hosts]]) on fixed host states: each host's
GPUs and runs, a down host's cause and fix; back to this machine with f; 80x24 snapshots."""

from __future__ import annotations

from tests.fleet_fixtures import FLEET_HOSTS, fixed_fleet_factory, fleet_states
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle, wait_for

HISTORY_S = 59


def _fleet_app(**kwargs):
    factory = fixed_fleet_factory(fleet_states())
    app = make_app(hosts=FLEET_HOSTS, fleet_factory=factory, seed_history_s=HISTORY_S, **kwargs)
    return app, factory


async def test_f_shows_every_host_with_its_gpus_runs_or_cause_and_back():
    app, factory = _fleet_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "f Fleet" in screen_text(app).splitlines()[-1]  # in the footer
        await pilot.press("f")
        await wait_for(pilot, lambda: "deadhost · down" in screen_text(app))
        text = screen_text(app)
        assert "● localgpu · up · laptop · SIMULATED rtx3050-4gb" in text
        assert "GPU0 NVIDIA GeForce RTX 3050 Lap…" in text
        assert "▶ qlora-3b-0412 · running · 70/120 · loss 1.2345" in text
        assert "● a100-box · up · SIMULATED 2x-a100-40gb" in text
        assert text.count("NVIDIA A100-SXM4-40GB") == 2 and "no active run" in text
        assert "ssh deadhost: nothing accepts ssh there (connection refused)" in text
        assert "fix: start sshd on it, or check the Port in ~/.ssh/config" in text
        assert "trying again in 8 s" in text
        assert "Host" not in text  # this machine's panels are hidden
        await pilot.press("f")
        await wait_for(pilot, lambda: "deadhost" not in screen_text(app))
        assert "GPU 0 · NVIDIA GeForce RTX 3050" in screen_text(app)
    assert factory.fleet.started and factory.fleet.closed  # the streams end with the app


async def test_without_hosts_there_is_no_fleet_key():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Fleet" not in screen_text(app)
        await pilot.press("f")
        await settle(pilot)
        assert "GPU 0 · NVIDIA GeForce RTX 3050" in screen_text(app)


async def test_a_stale_host_keeps_its_values_and_says_for_how_long():
    states = fleet_states()
    states[0] = states[0].__class__(**{**states[0].__dict__, "state": "stale", "since": 4_988.0})
    app = make_app(hosts=FLEET_HOSTS, fleet_factory=fixed_fleet_factory(states))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await wait_for(pilot, lambda: "localgpu · stale" in screen_text(app))
        assert "◌ localgpu · stale · laptop · SIMULATED rtx3050-4gb · no update for 12 s" in (
            screen_text(app)
        )
        assert "70/120" in screen_text(app)


async def _show_fleet(pilot) -> None:
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot)


def test_fleet_view_80x24(snap_compare):
    app, _ = _fleet_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_show_fleet)


def test_fleet_view_120x40(snap_compare):
    app, _ = _fleet_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=_show_fleet)
