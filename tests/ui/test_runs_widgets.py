"""The Runs place's pure parts: the loss chart, sparklines, the fact line, the launch verdict,
the training-stack check and the words said when a run ends."""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from pathlib import Path

from textual.content import Content

from cockpit.runs.endings import can_resume, ending_note, next_steps
from cockpit.runs.launch_check import LaunchCheck, missing_modules
from cockpit.runs.preflight import Preflight, Refusal
from cockpit.runs.status import NO_END, RunSummary
from cockpit.runs.watcher import StepPoint
from cockpit.tui.widgets.loss_chart import BARS, chart_rows, column_values
from cockpit.tui.widgets.run_items import pack
from cockpit.tui.widgets.run_launch import launch_keys, verdict_content
from cockpit.tui.widgets.run_metrics import SPARKS, sparkline, step_metrics
from cockpit.tui.widgets.run_progress import progress_bar


def _plain(rows: list[Content]) -> list[str]:
    return [row.plain for row in rows]


def test_chart_labels_max_and_min_and_draws_a_falling_loss_falling():
    points = [(step, 3.0 / step) for step in range(1, 101)]
    rows = _plain(chart_rows(points, width=60, height=10))
    assert len(rows) == 10
    assert rows[0].startswith("3┤") or rows[0].lstrip().startswith("3┤")
    assert rows[8].lstrip().startswith("0.03┤")
    assert rows[9].strip().startswith("└step 1") and rows[9].rstrip().endswith("100")
    plot = [row.split("┤" if "┤" in row else "│", 1)[1] for row in rows[:9]]
    heights = [sum(BARS.index(line[col]) for line in plot) for col in range(len(plot[0]))]
    assert heights[0] > heights[len(heights) // 2] > heights[-1] > 0


def test_chart_leaves_out_nan_and_labels_a_flat_line_once():
    rows = _plain(chart_rows([(1, 2.0), (2, math.nan), (3, 2.0)], width=30, height=5))
    assert sum("2┤" in row for row in rows) == 1
    assert "nan" not in "".join(rows)
    assert _plain(chart_rows([(1, math.nan)], width=30, height=5)) == ["no data yet"]


def test_column_values_average_many_points_and_interpolate_few():
    assert column_values([(0, 0.0), (1, 2.0), (2, 4.0), (3, 6.0)], 2) == [1.0, 5.0]
    stretched = column_values([(0, 0.0), (10, 10.0)], 5)
    assert stretched == sorted(stretched) and 0 < stretched[2] < 10


def test_sparkline_spans_the_width_from_lowest_to_highest_bar():
    line = sparkline([0.3, 0.1, 0.9, 0.5], 8)
    assert len(line) == 8
    assert min(line, key=SPARKS.index) == SPARKS[0] and max(line, key=SPARKS.index) == SPARKS[-1]
    assert sparkline([], 8) == ""


def test_facts_wrap_between_items_never_inside_one():
    items = [Content("step 12/30"), Content("30.50 steps/s"), Content("ETA 0:39")]
    assert [line.plain for line in pack(items, 80)] == ["step 12/30  ·  30.50 steps/s  ·  ETA 0:39"]
    assert [line.plain for line in pack(items, 30)] == [
        "step 12/30  ·  30.50 steps/s",
        "ETA 0:39",
    ]


def test_progress_bar_fills_its_fraction():
    bar = progress_bar(0.5, 25).plain
    assert bar.endswith(" 50%") and bar.count("━") == 10
    assert progress_bar(None, 25).plain.endswith("?")


def _check(**kw) -> LaunchCheck:
    preflight = Preflight(Path("p.toml"), None, **kw)
    return LaunchCheck("p", preflight, command="python -m engines run RUN")


def test_a_refused_verdict_names_the_key_and_the_fix_and_offers_no_start():
    check = _check(
        refusals=(Refusal("data.path", "no file /x.jsonl", "point it at a file", "data"),)
    )
    text = verdict_content(check).plain
    assert "refused to start" in text and "data.path: no file /x.jsonl" in text
    assert "fix: point it at a file" in text
    assert "s start" not in launch_keys(check).plain


def test_wont_fit_is_the_only_refusal_f_can_override():
    vram = Refusal("", "won't fit: needs 5.6 of 4.0 GiB", "batch 1; or --force to try", "vram")
    check = _check(refusals=(vram,))
    assert check.forcible
    assert "f start anyway" in launch_keys(check).plain
    fix = verdict_content(check).plain
    assert "or f to try" in fix and "--force" not in fix  # the TUI's key, not the CLI flag
    data = Refusal("data.path", "no file", "fix", "data")
    assert not _check(refusals=(vram, data)).forcible


def test_missing_modules_names_what_an_interpreter_cannot_import():
    missing, error = missing_modules(sys.executable, ("json", "no_such_module_xyz"))
    assert (missing, error) == (("no_such_module_xyz",), None)
    missing, error = missing_modules("/nonexistent/python", ("json",))
    assert missing == () and "could not ask /nonexistent/python" in error


def _summary(status: str, **kw) -> RunSummary:
    return RunSummary(id="r1", run_dir=Path("/runs/r1"), status=status, step=12, total_steps=30,
                      **kw)  # fmt: skip


def test_ending_notes_say_what_happened_and_what_to_do():
    title, message, severity = ending_note(_summary("finished", last_loss=0.5), False)
    assert (title, severity) == ("Run finished", "information") and "loss 0.5000" in message
    crashed = _summary("crashed", reason="SIGKILL: killed; often the OOM killer")
    title, message, severity = ending_note(crashed, False)
    assert severity == "error" and "SIGKILL" in message
    assert "cockpit explain /runs/r1/output.log" in message
    assert "resume" not in message
    assert "resume from the last checkpoint with r" in next_steps(crashed, True)
    assert ending_note(_summary("stopped", reason="stopped at step 12"), True)[2] == "warning"


def test_a_failed_runs_note_names_its_known_cause_and_where_l_opens_the_log(tmp_path):
    lines = ["loading", "step 1", "warning: tokenizer.pad_token = tokenizer.eos_token"] * 40
    lines += ["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"]
    (tmp_path / "output.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    failed = replace(_summary("failed", reason="OutOfMemoryError"), run_dir=tmp_path)
    _, message, _ = ending_note(failed, False)
    assert "l opens the log at line 121: CUDA out of memory" in message
    (tmp_path / "output.log").write_text("loading\nstep 1\n", encoding="utf-8")
    _, message, _ = ending_note(failed, False)  # the log changed: read again
    assert "read the log with l" in message


def test_only_an_ended_run_with_a_checkpoint_can_be_resumed(tmp_path):
    stopped = replace(_summary("stopped"), run_dir=tmp_path)
    assert not can_resume(stopped)
    (tmp_path / "checkpoints" / "checkpoint-12").mkdir(parents=True)
    assert can_resume(stopped)
    assert not can_resume(replace(stopped, status="running"))
    assert not can_resume(replace(stopped, status="crashed", reason=NO_END, run_dir=Path("/x")))


def test_grpo_steps_show_each_reward_function_completion_length_and_kl():
    points = [
        StepPoint(step=s, t=float(s), loss=0.0, lr=1e-5, reward=0.2 * s, kl=0.01 * s,
                  completion_length=40.0 + s, rewards=(("format", 0.1 * s), ("exact", 0.05)))
        for s in range(1, 6)
    ]  # fmt: skip
    names = [m.name.strip() for m in step_metrics(points)]
    assert names == ["lr", "reward", "format", "exact", "completion", "KL"]
    sft = [StepPoint(step=1, t=1.0, loss=2.0, lr=1e-4, grad_norm=0.5)]
    assert [m.name for m in step_metrics(sft)] == ["lr", "grad norm"]
