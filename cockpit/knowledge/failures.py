"""Failures read out of log lines: Python tracebacks, process deaths, fatal error lines.

The reading half of ``unrecognized_error`` (`cockpit.knowledge.unrecognized` decides
what to report): what one line says on its own (a death, a launcher's exit code, an error
line, training going on), the frames worth keeping, and how a line splits into its
output stream and text. `cockpit.knowledge.tracebacks` reads what spans lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_STREAM = re.compile(
    r"^(\[(?:rank|default|RANK ?)\d+\]:|\((?:[\w.-]+ )?pid=\d+(?:, ip=[\d.]+)?\)"
    r"|\[\d+,\d+\]<std(?:out|err)>:)\s?"
)
_STAMP = re.compile(
    r"^(?:\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]? "
    r"|\[\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\] |> ?"
    r"|[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [\w/.-]+:\d+\] )"  # glog, as torch.distributed
)
HEADER = "Traceback (most recent call last):"
_RICH_HEADER = re.compile(r"^╭─+ Traceback \(most recent call last\)")
# IPython / Jupyter / Colab: "KeyError    Traceback (most recent call last)".
_IPYTHON_HEADER = re.compile(r"^[A-Za-z_][\w.]*\s{2,}Traceback \(most recent call last\)")
NOT_FAILURES = ("KeyboardInterrupt",)
"""Exceptions that end a run on purpose (Ctrl-C): not a failure to explain."""
_PROGRESS = re.compile(r"\d+%\|[^|]*\|\s*(\d+/\d+)")
_METRICS = re.compile(
    r"^\{['\"](?:loss|train_loss|eval_loss|train_runtime|reward|learning_rate|grad_norm)['\"]:"
    r"|^Saving model checkpoint to |^\*{5} Running (?:training|Evaluation) \*{5}"
)
_TQDM_BEFORE = re.compile(r"\|.*\]\s*$")

SIGNALS = {4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV"}
SIGNALS.update({15: "SIGTERM", 5: "SIGTRAP", 13: "SIGPIPE"})
DEATHS = {
    "Segmentation fault": 11,
    "Aborted": 6,
    "Bus error": 7,
    "Illegal instruction": 4,
    "Floating point exception": 8,
    "Killed": 9,
}
_DEATH = "|".join(DEATHS)
_SHELL_DEATH = re.compile(
    rf"^(?:(?:\S+: )?line \d+:\s+\d+\s+|\[\d+\]\+?\s+|zsh: )(?P<what>{_DEATH}|killed)\b"
)
_BARE_DEATH = re.compile(rf"^(?P<what>{_DEATH})(?::\s*9)?(?:\s+\(core dumped\))?\s*$")
_STAR_SIGNAL = re.compile(r"^\*\*\* (?P<sig>SIG[A-Z]+) received at")
_EXITS = (
    re.compile(r"failed \(exitcode: (?P<code>-?\d+)\) local_rank: (?P<rank>\d+)"),
    re.compile(r"exits with return code = (?P<code>-?\d+)"),
    re.compile(r"\bexit(?:ed)? (?:with )?(?:exit )?(?:code|status)[ =:]+(?P<code>-?\d+)"),
    re.compile(r"returned non-zero exit status (?P<code>\d+)"),
    re.compile(r"died with <Signals\.SIG\w+: (?P<sig>\d+)>"),
)
_WEAK = (
    re.compile(r"^(?:[\w./\\-]+: )?(?:fatal )?[Ee]rror: (?P<msg>\S.*)"),
    re.compile(
        r"^(?:[\w.]+ - |- (?:[\w.]+ - )?|\| |\[)?ERROR(?:\]|:|\s+-|\s*\||\s+(?=\d\d-\d\d ))"
        r"\s*(?P<msg>\S.*)"
    ),
    re.compile(r"^(?P<cls>[A-Za-z_][\w.]*(?:Error|Exception))(?::\s*(?P<msg>.*))?$"),
)
_LOG_HEAD = re.compile(
    r"^(?:\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? (?:\[[\w./-]+:\d+\] )?"
    r"|(?:root|__main__|\w+(?:\.\w+)+):(?=\S))"
)
_CUDA = re.compile(r"^(?:[\w.]+: )?(?P<msg>CUDA error: .+|CUBLAS_STATUS_\w+.*|NCCL error.*)")


@dataclass
class Event:
    """A failure (or a sign of training going on) read from the log."""

    kind: str
    """"traceback", "crash" (a death with its own account: faulthandler, C++ terminate, a
    CUDA error), "exit" (a process ended: Killed, a launcher's exit code), "weak" (an error
    line that is fatal only if the log ends there) or "progress"."""
    start: int
    line: int
    """The line to annotate: the exception line, or the death's line."""
    end: int
    stream: str = ""
    exception: str = ""
    message: str = ""
    frames: Frames = field(default_factory=lambda: Frames())
    exit: str = ""
    signal: int = 0
    chain: str = ""
    """How it follows the stream's previous traceback: "context" (raised while handling it)
    or "cause" (it was the direct cause)."""
    ignored: bool = False
    """Python said it ignored it (an exception in ``__del__`` or a thread at shutdown)."""
    more: list[str] = field(default_factory=list)
    token: str = ""
    """For progress: the step count shown, so a redraw of one bar is not progress."""
    search: str = ""
    """What to search for, when not the exception and message (an exit line's words)."""


@dataclass
class Frames:
    """The frames of a traceback that matter, kept as they stream past (not all of them)."""

    last: str = ""
    library: str = ""
    library_at: str = ""
    user: str = ""
    deepest_first: bool = False
    """Frames come most recent first (faulthandler, C++), not last (Python tracebacks)."""

    def add(self, path: str, line: str, func: str | None) -> None:
        owner, package = frame_owner(path)
        where = f"{_short(path, package)}:{line}" + (f", in {func.strip()}" if func else "")
        keep_first = self.deepest_first
        if not (keep_first and self.last):
            self.last = where
        if owner == "library" and not (keep_first and self.library):
            self.library, self.library_at = package, where
        elif owner == "user" and not (keep_first and self.user):
            self.user = where


_LIBRARY = re.compile(r"[\\/](?:site|dist)-packages[\\/](?P<pkg>[^\\/]+)")
_PYTHON = re.compile(r"[\\/]lib[\\/]python\d[\d.]*[\\/]|[\\/]Lib[\\/]|^<")
_LAUNCHER = re.compile(r"[\\/](?:bin|Scripts)[\\/][^\\/]+$")


def frame_owner(path: str) -> tuple[str, str]:
    """("library", package), ("python", ""), ("launcher", "") or ("user", "") for a path."""
    found = _LIBRARY.search(path)
    if found:
        return "library", found.group("pkg").split(".")[0]
    if _PYTHON.search(path):
        return "python", ""
    if _LAUNCHER.search(path):
        return "launcher", ""
    return "user", ""


def _short(path: str, package: str) -> str:
    """A library frame's path from its package folder; other paths as printed."""
    if package:
        found = _LIBRARY.search(path)
        if found:
            return path[found.start("pkg") :].replace("\\", "/")
    return path


def split_stream(piece: str) -> tuple[str, str]:
    """(the stream prefix such as ``[rank0]:`` or "", the rest with timestamps removed)."""
    stream = ""
    found = _STREAM.match(piece)
    if found:
        stream, piece = found.group(1), piece[found.end() :]
    return stream, _STAMP.sub("", piece, count=1)


def pieces(text: str) -> list[str]:
    """The logical lines of a physical line: tqdm's ``\\r`` redraws split, colours removed."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    return [p for p in text.rstrip("\n").split("\r") if p.strip()] if "\r" in text else [text]


def header_at(body: str) -> int:
    """Where a traceback header starts in `body` (at its start, or after a tqdm bar), or -1."""
    if body.startswith(HEADER) or _RICH_HEADER.match(body) or _IPYTHON_HEADER.match(body):
        return 0
    at = body.find(HEADER)
    return at if at > 0 and _TQDM_BEFORE.search(body[:at]) else -1


def progress_token(body: str) -> str | None:
    """A sign that training goes on: "*" for a metrics line, the step count of a bar."""
    if _METRICS.match(body.lstrip()):
        return "*"
    found = _PROGRESS.search(body)
    return found.group(1) if found else None


def line_event(body: str, number: int) -> Event | None:
    """A failure that one line shows on its own (not inside a traceback), or None."""
    text = body.strip()
    death = _SHELL_DEATH.match(text) or _BARE_DEATH.match(text)
    if death:
        what = death.group("what").capitalize()
        return _death(number, what, DEATHS.get(what, 9), text)
    star = _STAR_SIGNAL.match(text)
    if star:
        sig = next((n for n, name in SIGNALS.items() if name == star.group("sig")), 0)
        return _death(number, star.group("sig"), sig, text)
    for pattern in _EXITS:
        found = pattern.search(text)
        if found:
            return _exit_event(number, text, found)
    return _error_line(text, number)


def _death(number: int, what: str, sig: int, text: str) -> Event:
    name = SIGNALS.get(sig, "")
    return Event("exit", number, number, number, exception=what, message=text, signal=sig,
                 exit=f"signal {sig} ({name})" if name else what, search=what)  # fmt: skip


def _exit_event(number: int, text: str, found: re.Match[str]) -> Event | None:
    groups = found.groupdict()
    code = int(groups.get("code") or 0)
    sig = int(groups.get("sig") or 0) or (-code if code < 0 else 0)
    if not code and not sig:
        return None
    name = SIGNALS.get(sig, f"signal {sig}")
    ended = f"signal {sig} ({name})" if sig else f"exit code {code}"
    return Event("exit", number, number, number, exception="exit", message=text,
                 exit=ended, signal=sig, search=found.group(0))  # fmt: skip


def _error_line(text: str, number: int) -> Event | None:
    cuda = _CUDA.match(text)
    if cuda:
        return Event("crash", number, number, number, exception="CUDA error",
                     message=cuda.group("msg"))  # fmt: skip
    for pattern in _WEAK:
        found = pattern.search(text)
        if found:
            cls = found.groupdict().get("cls") or "Error"
            message = (found.group("msg") or "").strip()
            if not found.groupdict().get("cls"):
                message = _LOG_HEAD.sub("", message, count=1)  # logger name, vLLM's stamp
            return Event("weak", number, number, number, exception=cls, message=message)
    return None
