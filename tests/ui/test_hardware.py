"""The Hardware place: GPU cards, the process table, the host panel and the no-GPU state."""

from __future__ import annotations

from cockpit.hardware.snapshot import GIB, GpuProcess, GpuSnapshot, NvmlStatus
from cockpit.tui.widgets.gpu_card import GpuCard
from cockpit.tui.widgets.host_panel import HostPanel
from cockpit.tui.widgets.process_table import ProcessTable
from tests.ui.cockpit_snapshot_app import FixedGpuSource, make_app
from tests.ui.conftest import screen_text, settle

SPARSE_GPU = GpuSnapshot(
    index=0,
    name="Mystery Card",
    memory_total_bytes=8 * GIB,
    memory_used_bytes=None,
    processes=(GpuProcess(pid=777, command="python train.py", user="ana", used_memory_bytes=None),),
)


async def test_simulated_gpu_is_labelled_and_named():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        card_title = text.splitlines()[1]
        assert "GPU 0 · NVIDIA GeForce RTX 3050 Laptop GPU" in card_title
        assert "SIMULATED" in card_title
        assert "SIMULATED" in text.splitlines()[0]
        assert "driver 591.44 · CUDA 13.1 · cc 8.6" in text
        assert "fan n/a" in text  # the laptop card reports no fan speed


async def test_process_table_marks_the_cockpit_run():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        run_row = next(line for line in screen_text(app).splitlines() if "4242" in line)
        assert "▶ run demo-run" in run_row
        assert "3.3 GiB" in run_row


async def test_everything_fits_at_80x24():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        for widget in (screen.query_one(GpuCard), screen.query_one(ProcessTable)):
            assert widget.region.bottom <= 23, widget
        host = screen.query_one(HostPanel)
        assert host.region.bottom <= 23
        assert "HF cache" in screen_text(app)


async def test_wide_terminal_puts_the_host_beside_the_gpus():
    app = make_app(gpu="2x-a100-40gb")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        cards = list(app.screen.query(GpuCard))
        host = app.screen.query_one(HostPanel)
        assert len(cards) == 2
        assert cards[0].region.y == cards[1].region.y  # side by side
        assert host.region.x > cards[1].region.right - 1
        assert host.region.y == cards[0].region.y


async def test_no_gpu_shows_nvml_error_hints_and_live_host():
    app = make_app(gpu=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "No NVIDIA GPU visible" in text
        assert "NVML Shared Library Not Found" in text
        assert "install the Windows driver only" in text
        assert "Press 2 for the Doctor" in text
        assert "cockpit --simulate rtx3050-4gb" in text
        assert "12 GiB / 32 GiB" in text  # host RAM still shown
        assert not app.screen.query(GpuCard)
        assert not app.screen.query_one(ProcessTable).display
        await pilot.press("2")
        await settle(pilot)
        assert app.current_mode == "doctor"


async def test_unknown_values_read_na_never_zero():
    source = FixedGpuSource(NvmlStatus(available=True), (SPARSE_GPU,))
    app = make_app(gpu=source)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "n/a / 8.0 GiB  n/a" in text  # VRAM used unknown
        assert "util n/a · temp n/a · power n/a / n/a · fan n/a" in text
        assert "SIMULATED" not in text
        row = next(line for line in text.splitlines() if "777" in line)
        assert "n/a" in row
        assert " 0 B" not in row


async def test_new_samples_update_the_card():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first = screen_text(app)
        app.fixture_clock.now += 20  # well into the next checkpoint dip of the demo run
        app.request_sample()
        await settle(pilot)
        card = app.screen.query_one(GpuCard)
        assert len(card.query_one(".util-history").values) == 2
        assert screen_text(app) != first
