"""The pure text builders behind the widgets: what each line says and how wide it is."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cockpit.doctor.finding import Finding
from cockpit.hardware.snapshot import GIB, GpuProcess, GpuSnapshot
from cockpit.tui.places import PLACES
from cockpit.tui.widgets.finding_table import first_line, summary
from cockpit.tui.widgets.gpu_card import info_text, stats_text, vram_text
from cockpit.tui.widgets.history_line import history_rows
from cockpit.tui.widgets.meter import bar_content
from cockpit.tui.widgets.place_bar import bar_content as place_bar
from cockpit.tui.widgets.process_table import caption, process_rows

BLANK_GPU = GpuSnapshot(index=0, name="Card")


def test_unknown_gpu_values_read_na():
    assert vram_text(BLANK_GPU) == "n/a / n/a  n/a"
    assert stats_text(BLANK_GPU) == "util n/a · temp n/a · power n/a / n/a · fan n/a"
    assert info_text(BLANK_GPU) == (
        "SM n/a · mem n/a · driver n/a · CUDA n/a · cc n/a"
    )  # fmt: skip


def test_vram_text_shows_used_total_and_percent():
    gpu = GpuSnapshot(index=0, name="Card", memory_total_bytes=4 * GIB, memory_used_bytes=GIB)
    assert vram_text(gpu) == "1.0 GiB / 4.0 GiB  25%"


def test_unknown_fraction_draws_an_empty_track():
    assert bar_content(None, 10).plain == "░" * 10
    assert bar_content(0.5, 10).plain == "█" * 5 + "░" * 5
    assert bar_content(1.7, 4).plain == "████"  # clamped


@given(
    values=st.lists(st.floats(min_value=0, max_value=100), max_size=120),
    width=st.integers(min_value=1, max_value=200),
    height=st.integers(min_value=1, max_value=4),
)
def test_history_rows_always_fill_exactly_the_widget(values, width, height):
    rows = history_rows(values, width, height)
    assert len(rows) == height
    assert all(row.cell_length == width for row in rows)


def test_history_is_on_an_absolute_scale_newest_at_the_right():
    (row,) = history_rows([0.0, 50.0, 100.0], width=5)
    assert row.plain == "  ▁▄█"
    (flat_high,) = history_rows([90.0, 90.0], width=2)
    assert flat_high.plain == "▇▇"  # a steady 90 % is not drawn like a steady 0 %


def test_a_wide_history_stretches_each_sample():
    (row,) = history_rows([100.0] * 60, width=120)
    assert row.plain == "█" * 120


def test_process_rows_mark_runs_and_keep_unknown_memory_unknown():
    gpu = GpuSnapshot(
        index=1,
        name="Card",
        processes=(
            GpuProcess(pid=1, command="python -m engines run x", user="a", used_memory_bytes=None,
                       cockpit_run="x"),
            GpuProcess(pid=2, command=None, user=None, used_memory_bytes=2 * GIB),
        ),
    )  # fmt: skip
    rows = [[cell.plain for cell in row] for row in process_rows([gpu], command_width=40)]
    assert rows == [
        ["1", "2", "n/a", "2.0 GiB", "", "n/a"],
        ["1", "1", "a", "n/a", "▶ run x", "python -m engines run x"],
    ]


def test_process_table_caption_says_what_it_cannot_show():
    assert caption([BLANK_GPU], 0) == "process list not available for GPU 0"
    assert caption([GpuSnapshot(index=0, name="Card", processes=())], 0) == (
        "no processes on the GPU"
    )


def test_summary_counts_every_status_in_order():
    findings = [
        Finding("a", "A", "ok", ""),
        Finding("b", "B", "fail", ""),
        Finding("c", "C", "ok", ""),
    ]
    assert summary(findings).plain == "1 fail · 0 warn · 2 ok · 0 skip"
    assert first_line("\n  torch 2.5.1+cpu\nmore") == "torch 2.5.1+cpu"


def test_place_bar_names_the_simulation_only_when_it_fits():
    wide = place_bar(PLACES, "doctor", "rtx3050-4gb", width=120).plain
    narrow = place_bar(PLACES, "doctor", "rtx3050-4gb", width=80).plain
    assert "SIMULATED rtx3050-4gb" in wide
    assert "SIMULATED" in narrow and "rtx3050-4gb" not in narrow
    assert len(narrow) <= 80
    assert "SIMULATED" not in place_bar(PLACES, "doctor", None).plain
