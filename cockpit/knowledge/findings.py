"""What a log scan reports: a finding at a line, and for an unknown error, what failed.

Two kinds of finding share one shape so every surface (explain, report, the Logs place)
lists them alike: a known cause from the catalog, and ``unrecognized_error``, which says
what the log shows about a failure no catalog cause explains (`failure` holds that).
"""

from __future__ import annotations

from dataclasses import dataclass

UNRECOGNIZED = "unrecognized_error"


@dataclass(frozen=True)
class Failure:
    """What failed, where, and what to search for: the detail of an unrecognized_error."""

    exception: str
    """The exception class as printed (``KeyError``, ``torch.OutOfMemoryError``), or what
    ended the process (``Killed``, ``Segmentation fault``)."""
    message: str
    package: str = ""
    """The library the failure came from: the deepest site-packages frame ("" if none)."""
    version: str = ""
    """That library's version when the log shows it."""
    raised_at: str = ""
    """The frame that raised it: ``datasets/arrow_dataset.py:2814, in __getitem__``."""
    user_frame: str = ""
    """The last frame in the user's own code: ``train.py:41, in collate``."""
    first: str = ""
    """The first exception of a chain, and how it led to this one."""
    exit: str = ""
    """How the process ended, when a launcher or the shell said (``signal 9 (SIGKILL)``)."""
    count: int = 1
    """Times the same failure was seen (every rank prints its own traceback)."""
    search: str = ""
    """What to search for: the error with paths and numbers removed, and the package."""

    def said(self) -> str:
        """The error as the log put it: ``KeyError: 'text'``, or the line that said it."""
        if not self.message or self.exception in self.message:
            return self.message or self.exception
        return f"{self.exception}: {self.message}"

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) lines of what is known, in the order a person reads them."""
        raised = self.package + (f" {self.version}" if self.version else "")
        where = f"{raised} ({self.raised_at})" if raised and self.raised_at else raised
        if self.raised_at and self.raised_at == self.user_frame:
            where = f"your code, called by {raised}" if raised else "your code"
        rows = [
            ("error", self.said()),
            ("raised in", where),
            ("your code", self.user_frame),
            ("first", self.first),
            ("ended", self.exit),
            ("seen", f"{self.count} times (each rank or retry)" if self.count > 1 else ""),
            ("search for", self.search),
        ]
        return [(label, value) for label, value in rows if value]


@dataclass(frozen=True)
class Match:
    """A finding at a line of a log: a known cause, or an unrecognized error."""

    id: str
    title: str
    severity: str
    line: int
    """1-based line number in the scanned text."""
    excerpt: str
    """The matching line, normalised and redacted."""
    fix: str
    failure: Failure | None = None
    """What failed, for an unrecognized_error; None for a known cause."""
