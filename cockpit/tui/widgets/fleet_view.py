"""The fleet view of the Hardware place: one box per `[[hosts]]` machine.

A host that is up shows each GPU's memory, utilisation, temperature and power and the runs
on it; a stale one its last values, marked; a down one the cause and the fix, and when it
is tried again. Fed by `show()` with the fleet's states (`cockpit.remote.fleet`).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from cockpit.hardware.format import fmt_bytes, fmt_gib_pair, fmt_pct, fmt_temp, fmt_watts
from cockpit.redact import redact
from cockpit.remote.fleet import HostState
from cockpit.remote.stream import HostReport, RemoteGpu, RemoteRun
from cockpit.tui.widgets.live_text import update_line

GPU_NAME_WIDTH = 28
_BADGE = {"connecting": "…", "up": "●", "stale": "◌", "down": "✕"}


def gpu_line(gpu: RemoteGpu) -> Content:
    """ "GPU0 NAME  3.3/4.0 GiB  97%  71°C  54 W"."""
    name = gpu.name if len(gpu.name) <= GPU_NAME_WIDTH else gpu.name[: GPU_NAME_WIDTH - 1] + "…"
    used = int(gpu.memory_used_bytes) if gpu.memory_used_bytes is not None else None
    total = int(gpu.memory_total_bytes) if gpu.memory_total_bytes is not None else None
    values = (
        f"{fmt_gib_pair(used, total):>13}  {fmt_pct(gpu.utilization_pct):>4}  "
        f"{fmt_temp(gpu.temperature_c):>5}  {fmt_watts(gpu.power_draw_w):>5}"
    )
    return Content.assemble((f"GPU{gpu.index} ", "bold"), f"{name:<{GPU_NAME_WIDTH}}  ", values)


def run_line(run: RemoteRun) -> Content:
    """ "▶ RUN_ID · running · 70/120 · loss 1.2500"."""
    step = f"{run.step if run.step is not None else '-'}/{run.total_steps or '?'}"
    parts = [redact(run.status), step]
    if run.last_loss is not None:
        parts.append(f"loss {run.last_loss:.4f}")
    return Content.assemble(("▶ ", "bold"), (redact(run.id), "bold"), " · " + " · ".join(parts))


def report_lines(report: HostReport) -> list[Content]:
    """The GPUs (or why there are none), the host, the runs of an up or stale host."""
    lines = [gpu_line(gpu) for gpu in report.gpus]
    if not report.gpus:
        why = redact(report.gpu_error or "none found")
        lines.append(Content.styled(f"no GPU: {why}", "$warning"))
    ram = f"RAM {fmt_bytes(report.ram_used_bytes)} / {fmt_bytes(report.ram_total_bytes)}"
    lines.append(Content.styled(f"CPU {fmt_pct(report.cpu_pct)} · {ram}", "$text-muted"))
    lines += [run_line(run) for run in report.runs]
    if not report.runs:
        lines.append(Content.styled("no active run", "$text-muted"))
    return lines


def host_title(state: HostState, now: float) -> str:
    """The box's title: badge, name, state and what it is (its hostname, SIMULATED)."""
    title = f"{_BADGE[state.state]} {state.host.name} · {state.state}"
    report = state.report
    if report is not None and state.state in ("up", "stale"):
        if report.hostname and report.hostname != state.host.name:
            title += f" · {report.hostname}"
        if report.simulated:
            title += f" · SIMULATED {report.simulated}"
    if state.state == "stale":
        title += f" · no update for {max(0.0, now - state.since):.0f} s"
    return title


def host_lines(state: HostState, now: float) -> list[Content]:
    """The lines inside a host's box."""
    if state.state == "connecting":
        return [Content.styled(f"connecting over ssh to {state.host.target}…", "$text-muted")]
    if state.state == "down":
        failure = state.failure
        cause = redact(failure.cause) if failure else "not reachable"
        fix = redact(failure.fix) if failure else ""
        lines = [Content.styled(cause, "bold $error"), Content.assemble(("fix: ", "bold"), fix)]
        if state.retry_at is not None:
            wait = max(0.0, state.retry_at - now)
            tried = "trying again now" if wait < 0.5 else f"trying again in {wait:.0f} s"
            lines.append(Content.styled(tried, "$text-muted"))
        return lines
    return report_lines(state.report) if state.report is not None else []


class FleetView(VerticalScroll, can_focus=True):
    """Every host's box, in the settings' order; scrolls when they do not fit."""

    class Changed(Message):
        """A host's state changed (posted from a reader thread); many coalesce into one."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, FleetView.Changed)

    def show(self, states: Sequence[HostState], now: float) -> None:
        """Bring every box up to date (boxes are rebuilt only when the hosts change)."""
        boxes = list(self.query(".fleet-host").results(Static))
        if [box.name for box in boxes] != [s.host.name for s in states]:
            boxes = [Static(name=s.host.name, classes="fleet-host") for s in states]
            self.remove_children()
            self.mount_all(boxes)
        for box, state in zip(boxes, states, strict=True):
            box.border_title = host_title(state, now)
            for name in _BADGE:
                box.set_class(state.state == name, f"-{name}")
            update_line(box, Content("\n").join(host_lines(state, now)))
