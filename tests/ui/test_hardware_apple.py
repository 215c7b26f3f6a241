"""The Hardware place on a Mac: Apple's GPU with the unified memory it shares with the host,
instead of the no-NVIDIA panel; and the Profiles place planning against the GPU's share.

The real `AppleSource`, with the machine mocked at its boundary (chip name, macOS version,
psutil's memory figures), on the fixture app's fixed host (32 GiB, 11.5 GiB in use).
"""

from __future__ import annotations

from cockpit.hardware.apple import AppleSource
from cockpit.hardware.snapshot import GIB
from cockpit.tui.widgets.gpu_card import GpuCard
from cockpit.tui.widgets.host_panel import HostPanel
from cockpit.tui.widgets.process_table import ProcessTable
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle, wait_for

HISTORY_S = 59


def mac_source(macos: str = "13.6") -> AppleSource:
    """An M2 Pro sharing the fixture host's 32 GiB (11.5 GiB in use)."""
    return AppleSource("Apple M2 Pro", macos, memory=lambda: (32 * GIB, int(11.5 * GIB)))


async def test_a_mac_shows_its_gpu_with_unified_memory_not_the_no_nvidia_panel():
    app = make_app(gpu=mac_source())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "No NVIDIA GPU visible" not in text
        assert "GPU 0 · Apple M2 Pro" in text
        card_rows = text.splitlines()[2:6]
        assert (
            card_rows[0].lstrip("│ ").startswith("RAM") and "12 GiB / 32 GiB  36%" in card_rows[0]
        )
        assert "unified memory: shared with the CPU; the GPU may use ~21 GiB" in card_rows[1]
        assert "Metal · PyTorch mps · macOS 13.6 · bf16 no (macOS 14 or newer has it)" in text
        assert "CUDA" not in text and "util 60s" not in text  # nothing macOS does not say
        assert not app.screen.query_one(ProcessTable).display
        card, host = app.screen.query_one(GpuCard), app.screen.query_one(HostPanel)
        assert card.region.bottom <= 23 and host.region.bottom <= 23


async def test_macos_14_has_bf16():
    app = make_app(gpu=mac_source("14.5"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "macOS 14.5 · bf16 yes" in screen_text(app)


async def test_profiles_plan_against_the_gpus_share_of_unified_memory():
    app = make_app(gpu=mac_source(), start_place="profiles")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: "Apple M2 Pro 21.3 GiB" in screen_text(app))
        assert "Apple M2 Pro 21.3 GiB (of 32 GiB unified)" in screen_text(app)


def test_hardware_apple_silicon_80x24(snap_compare):
    app = make_app(gpu=mac_source(), seed_history_s=HISTORY_S)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
