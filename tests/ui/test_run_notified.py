"""The run view's head says whether the run-end notification went out."""

from __future__ import annotations

from pathlib import Path

from cockpit.runs.status import RunSummary
from cockpit.tui.widgets.run_text import head_content


def _head(**extra) -> str:
    summary = RunSummary(id="r1", run_dir=Path("r1"), status="failed", profile="p", engine="sft",
                         extra=extra)  # fmt: skip
    return head_content(summary).plain


def test_a_failed_delivery_is_said_with_its_reason_and_a_sent_one_in_passing():
    failed = _head(notified={"ok": False, "error": "A Connection error occurred"})
    assert "notification not delivered: A Connection error occurred" in failed
    assert _head(notified={"ok": True, "to": 1}).endswith("p · sft · notified")
    assert "notif" not in _head()  # no [notify] urls: nothing to say
