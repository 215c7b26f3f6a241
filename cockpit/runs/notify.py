"""Tell the user that a run ended, wherever they are: the apprise URLs of `[notify] urls`.

The run's reaper (cockpit.runs.reaper) calls `notify_run_ended` once it has recorded the
engine's exit, so the notification arrives with cockpit closed and the terminal gone. One
notification per launch: the run, its verdict, duration, steps and last loss, and for a
run that did not finish its cause and the first known problem of its log with the fix.

Delivery is best effort: its outcome is recorded in run.json (`notified`) and a failure
never changes the run. apprise is imported only when there is somewhere to send to (it
takes half a second to import). Everything sent goes through the redactor.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cockpit.redact import redact
from cockpit.runs.endings import cause, known_problem
from cockpit.runs.runjson import update_meta
from cockpit.runs.status import RunSummary, format_duration
from cockpit.runs.store import RunDir, summarize_dir

NOTIFY_TYPE = {"finished": "success", "stopped": "warning", "failed": "failure"}
"""apprise's notify type per verdict (a crash, or anything else, is a failure)."""
FIX_CHARS = 600
"""A known problem's fix is cut here: a notification is read on a phone."""
SEND_TIMEOUT_S = 20
"""How long one service may take to answer before it counts as not delivered."""


def ending_message(summary: RunSummary, host: str | None = None) -> tuple[str, str, str]:
    """(title, body, apprise notify type) of the notification for a run that ended."""
    title = f"cockpit: run {summary.status} · {summary.id}"
    facts = [summary.profile or "?", summary.engine or "?", host or socket.gethostname()]
    progress = [f"step {_or_q(summary.step)}/{_or_q(summary.total_steps)}"]
    if summary.duration_s is not None:
        progress.append(format_duration(summary.duration_s))
    if summary.last_loss is not None:
        progress.append(f"last loss {summary.last_loss:.4f}")
    lines = [" · ".join(facts), " · ".join(progress)]
    if summary.status == "finished":
        if summary.adapter_path:
            lines.append(f"Adapter: {summary.adapter_path}")
    else:
        lines.append(f"Cause: {cause(summary)}")
        problem = known_problem(summary) if summary.status in ("failed", "crashed") else None
        if problem is not None:
            lines.append(f"Known problem (log line {problem.line:,}): {problem.title}")
            fix = " ".join(problem.fix.split())
            cut = fix if len(fix) <= FIX_CHARS else fix[: FIX_CHARS - 1] + "…"
            lines.append(f"Fix: {cut}")
        if summary.last_checkpoint:
            lines.append(f"Resume: cockpit train --resume {summary.id}")
    lines.append(f"Folder: {summary.run_dir}")
    body = redact("\n".join(lines))
    return redact(title), body, NOTIFY_TYPE.get(summary.status, "failure")


def _or_q(value: int | None) -> str:
    return "?" if value is None else str(value)


def describe(url: str) -> str:
    """A URL as it may be shown: its service alone (its tokens and passwords stay out)."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://…" if sep else "a URL"


def send(urls: Sequence[str], title: str, body: str, notify_type: str) -> tuple[bool, str]:
    """Send through apprise: (all delivered, what went wrong in a sentence or "")."""
    try:
        import apprise
    except ImportError:
        return False, "apprise is not installed in cockpit's environment: pip install apprise"
    sender = apprise.Apprise()
    refused = [describe(url) for url in urls if not sender.add(url)]
    if len(sender) == 0:
        return False, f"no usable URL ({', '.join(refused)}): check [notify] urls in settings"
    with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
        delivered = bool(sender.notify(body=body, title=title, notify_type=notify_type))
    problems = [f"not an apprise URL: {u}" for u in refused]
    if not delivered:
        said = [line.split(" - ", 2)[-1] for line in captured.getvalue().splitlines() if line]
        problems.append("; ".join(said[-3:]) or "a service did not accept it")
    return delivered and not refused, redact("; ".join(problems))


def notify_run_ended(run_dir: Path, urls: Sequence[str] | None = None) -> dict[str, Any] | None:
    """Send the notification for the run in `run_dir` to `urls` (default: the settings');
    record and return the outcome (None when there was nowhere to send it)."""
    if urls is None:
        from cockpit.settings import load_settings

        urls = load_settings()[0].notify_urls
    if not urls:
        return None
    run = RunDir(run_dir)
    title, body, notify_type = ending_message(summarize_dir(run))
    delivered, problem = send(urls, title, body, notify_type)
    outcome: dict[str, Any] = {"at": time.time(), "ok": delivered, "to": len(urls)}
    if problem:
        outcome["error"] = problem
    update_meta(run.run_json, notified=outcome)
    return outcome
