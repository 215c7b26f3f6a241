"""Regenerate screenshots/: an SVG (and a PNG when rsvg-convert is installed) of each place.

    python -m tests.screenshots

Hardware uses the simulated GPUs on fixture host data (deterministic), its fleet view fixed
host states (two simulated machines up, one refusing ssh); Profiles opens the
4 GB QLoRA profile with batch 4 on the simulated 4 GB card; Runs shows a fixture run at step
70 of 120 whose engine is a stand-in process. The Doctor runs the
real doctor against a scratch virtualenv holding a deliberately broken stack (an Unsloth
whose declared pins the installed transformers does not meet, no torch), so the picture
shows real findings with their fixes. Data runs the real data check on a file with rows
cut at the limit and previews one of them. Compare overlays two fixture runs; Samples shows a
fixture GRPO run whose rewards stopped varying; Chat trains the tiny demo for real and asks
its chat engine, then asks it and its base side by side.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.runs.store import RUNS_DIR_ENV
from cockpit.tui.app import CockpitApp
from tests.compare_fixtures import write_run
from tests.engines.helpers import engine_env, make_run_dir, run_engine
from tests.fixtures.logs import write_failed_run_log
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.test_fleet import _fleet_app, _show_fleet
from tests.ui.test_samples import write_grpo_run
from tests.ui.test_snapshots_profiles import _open_3b_batch_4
from tests.ui.test_snapshots_runs import prepare_live_run

OUT = Path(__file__).resolve().parent.parent / "screenshots"


async def _settle(pilot: Pilot) -> None:
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


Prepare = Callable[[Pilot], Awaitable[None]]


async def _shoot(app: CockpitApp, name: str, size: tuple[int, int], prepare: Prepare | None):
    async with app.run_test(size=size) as pilot:
        await _settle(pilot)
        if prepare is not None:
            await prepare(pilot)
            await _settle(pilot)
        app.save_screenshot(f"{name}.svg", str(OUT))
    print(f"screenshots/{name}.svg")


def _broken_env(root: Path) -> Path:
    """A venv with an old transformers and an Unsloth that needs a newer one; no torch."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(root), "platbase": str(root)}))
    for name, version, requires in (
        ("transformers", "4.47.1", []),
        ("unsloth", "2026.1.4", ["transformers>=4.51.3", "torch>=2.4"]),
    ):
        info = site / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        body = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}"]
        body += [f"Requires-Dist: {r}" for r in requires]
        (info / "METADATA").write_text("\n".join(body) + "\n")
    return root / "bin" / "python"


def _doctor_app(python: Path) -> CockpitApp:
    from cockpit.doctor.runner import run_doctor

    app = make_app(gpu="rtx3050-4gb", start_place="doctor")
    app.python = str(python)
    app.doctor_runner = run_doctor
    return app


async def _press_help(pilot: Pilot) -> None:
    await pilot.press("question_mark")


def _logs_app(scratch: Path) -> CockpitApp:
    log = scratch / "logs" / "qlora-3b-oom" / "output.log"
    log.parent.mkdir(parents=True)
    write_failed_run_log(log)
    return make_app(start_place="logs", log_target=str(log))


async def _next_finding(pilot: Pilot) -> None:
    await pilot.press("right_square_bracket")


async def _open_settings(pilot: Pilot) -> None:
    await pilot.press("comma")


def _data_app(scratch: Path) -> CockpitApp:
    """The Data place on a prompt/completion file with rows cut at max_seq_length = 64,
    checked by the real engine with the tiny demo model's tokenizer."""
    from dataclasses import replace

    from tests.datacheck_fixtures import write_broken_case

    write_broken_case(scratch / "config" / "profiles")
    app = make_app(start_place="data")
    app.settings = replace(app.settings, default_profile="broken")
    return app


async def _data_truncated_row(pilot: Pilot) -> None:
    from tests.datacheck_fixtures import LONG_LINE
    from tests.ui.test_data import _select

    await _select(pilot, "data_truncated")
    await pilot.press("g", *str(LONG_LINE), "enter")
    await _settle(pilot)
    pilot.app.screen.query_one("#data-main").scroll_home(animate=False)


async def _all(scratch: Path) -> None:
    os.environ[CONFIG_DIR_ENV] = str(scratch / "config")  # shipped profiles only
    os.environ[RUNS_DIR_ENV] = str(scratch / "runs")  # only the fixture run
    shots: list[tuple[Callable[[], CockpitApp], str, tuple[int, int], Prepare | None]] = [
        (lambda: make_app(seed_history_s=59), "hardware", (120, 36), None),
        (lambda: make_app(gpu="2x-a100-40gb", seed_history_s=59), "hardware-2gpu", (200, 50), None),
        (lambda: make_app(gpu=None, seed_history_s=59), "hardware-no-gpu", (100, 30), None),
        (lambda: _fleet_app()[0], "fleet", (100, 30), _show_fleet),
        (lambda: _doctor_app(_broken_env(scratch / "envs" / "train")), "doctor", (140, 40), None),
        (lambda: make_app(start_place="profiles"), "profiles", (200, 50), _open_3b_batch_4),
        (lambda: make_app(start_place="runs"), "runs", (200, 50), prepare_live_run),
        (lambda: _logs_app(scratch), "logs", (120, 36), _next_finding),
        (lambda: make_app(seed_history_s=59), "help", (100, 30), _press_help),
        (lambda: make_app(seed_history_s=59), "settings", (100, 30), _open_settings),
        (lambda: _data_app(scratch), "data", (120, 40), _data_truncated_row),  # adds a profile
        (lambda: _runs_app(scratch, "compare", _two_runs), "compare", (120, 40), _compare),
        (lambda: _runs_app(scratch, "grpo", write_grpo_run), "samples", (120, 40), _samples),
        (lambda: _runs_app(scratch, "chat", _trained), "chat", (120, 40), _chat),
    ]
    for factory, name, size, prepare in shots:
        await _shoot(factory(), name, size, prepare)


def _two_runs(root: Path) -> None:
    write_run(root, "20261201-100000-tiny-demo-cpu", lr=1e-3, evals=True)
    write_run(root, "20261201-110000-tiny-demo-cpu", lr=5e-3, steps=30)


def _runs_app(scratch: Path, name: str, fill: Callable[[Path], object]) -> CockpitApp:
    """The Runs place on a runs folder of its own, filled by `fill`."""
    root = scratch / f"runs-{name}"
    fill(root)
    os.environ[RUNS_DIR_ENV] = str(root)
    return make_app(start_place="runs")


def _trained(root: Path) -> None:
    """A tiny run trained here for real (the chat engine loads it as a user's)."""
    env = engine_env(root.parent / "engine-cache")
    for key in ("COCKPIT_CACHE_DIR", "HF_HOME", "HF_HUB_OFFLINE", "OMP_NUM_THREADS"):
        os.environ[key] = env[key]
    train = {"max_steps": 60, "learning_rate": 1e-2, "save_steps": 0}
    run = make_run_dir(root, "tiny-demo-cpu", "20261201-120000-tiny-demo-cpu", train=train)
    if run_engine(run, env).returncode != 0:
        raise SystemExit(f"the tiny run did not train: see {run / 'output.log'}")


async def _chat(pilot: Pilot) -> None:
    """A question answered by the tuned model, then by it and its base side by side."""
    from cockpit.tui.screens.chat import Turn

    async def answered(who: str, count: int) -> None:
        for _ in range(3600):
            if len([t for t in pilot.app.screen.query(Turn) if t.who == who and t.note]) >= count:
                return
            await pilot.pause(0.05)
        raise SystemExit(f"the chat engine gave no {who} answer in 3 minutes")

    for key in ("down", "t"):
        await pilot.press(key)
        await _settle(pilot)
    pilot.app.screen.query_one("#chat-max").value = "40"
    pilot.app.screen.query_one("#chat-prompt").value = "What does LoRA stand for?"
    await pilot.press("enter")
    await answered("tuned", 1)
    await pilot.press("ctrl+b")
    pilot.app.screen.query_one("#chat-prompt").value = "Why does LoRA save memory?"
    await pilot.press("enter")
    await answered("base", 1)


async def _compare(pilot: Pilot) -> None:
    for key in ("down", "space", "down", "space", "v"):
        await pilot.press(key)


async def _samples(pilot: Pilot) -> None:
    await pilot.press("down")
    await _settle(pilot)
    await pilot.press("g")


def _png_with_chromium(chromium: str, svg: Path) -> None:
    """Rasterise one SVG at its own size (Chromium keeps leading spaces; rsvg drops them)."""
    match = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text(encoding="utf-8"))
    assert match, f"{svg} has no viewBox"
    width, height = (math.ceil(float(v)) for v in match.groups())
    flags = ["--headless=new", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--host-resolver-rules=MAP * ~NOTFOUND"]  # fmt: skip
    if os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses root with its sandbox
    subprocess.run(
        [chromium, *flags, f"--window-size={width},{height}",
         f"--screenshot={svg.with_suffix('.png')}", svg.resolve().as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def _pngs(chromium: str | None) -> None:
    converter = shutil.which("rsvg-convert")
    if chromium is None and converter is None:
        print("neither chromium nor rsvg-convert found (apt-get install chromium): SVGs only")
        return
    for svg in sorted(OUT.glob("*.svg")):
        if chromium is not None:
            _png_with_chromium(chromium, svg)
        else:
            subprocess.run([converter, str(svg), "-o", str(svg.with_suffix(".png"))], check=True)
        print(f"screenshots/{svg.with_suffix('.png').name}")


def main() -> int:
    OUT.mkdir(exist_ok=True)
    scratch = Path(tempfile.gettempdir()) / "cockpit-demo"  # a short path reads better
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        asyncio.run(_all(scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    from tests.browser_shot import find_chromium, shoot

    chromium = find_chromium()
    if chromium is None:
        print("chromium not found (apt-get install -y chromium): no screenshots/browser.png")
    else:
        shoot()
    _pngs(chromium)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
