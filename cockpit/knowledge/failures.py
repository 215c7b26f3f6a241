"""Failures read out of log lines: Python tracebacks, process deaths, fatal error lines.

The reading half of ``unrecognized_error`` (`cockpit.knowledge.unrecognized` decides
what to report). Lines come one at a time, so a traceback may span the chunks of a
200 MB scan. Each output stream (``[rank0]:``, ``[default1]:``, ``(pid=12)``) has its own
reader, because ranks print their tracebacks interleaved line by line. Indentation is
kept: it tells a traceback's code lines from the exception line that ends it.
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
_FRAME = re.compile(r'^\s+File "(?P<path>[^"]+)", line (?P<line>\d+)(?:,? in (?P<func>.+))?$')
_RICH_FRAME = re.compile(r"^│\s+(?P<path>\S+\.py):(?P<line>\d+) in (?P<func>\S+)")
# IPython / Jupyter / Colab, as users paste them: "KeyError    Traceback (most recent call
# last)", then "Cell In[5], line 3", "File ~/…/trainer.py:1553, in Trainer.train(self)"
# (IPython 8) or "/…/trainer.py in train(self)" (older), code lines marked "---->".
_IPYTHON_HEADER = re.compile(r"^[A-Za-z_][\w.]*\s{2,}Traceback \(most recent call last\)")
_IPYTHON_FRAME = re.compile(
    r"^(?:File (?P<path>\S.*?):(?P<line>\d+), in (?P<func>[^(\s]+)"
    r"|(?P<cell>Cell In ?\[\d+\]), line (?P<cell_line>\d+)"
    r"|(?P<old>\S+\.py|<ipython-input-[\w-]+>) in (?P<old_func>[^(\s]+))"
)
_IPYTHON_CODE = re.compile(r"^-*>|^-{10,}$")
NOT_FAILURES = ("KeyboardInterrupt",)
"""Exceptions that end a run on purpose (Ctrl-C): not a failure to explain."""
_EXCEPTION = re.compile(r"^(?P<cls>[A-Za-z_][\w.]*)(?::(?:\s+(?P<msg>.*))?)?$")
_CHAINS = {
    "During handling of the above exception, another exception occurred:": "context",
    "The above exception was the direct cause of the following exception:": "cause",
}
_PROGRESS = re.compile(r"\d+%\|[^|]*\|\s*(\d+/\d+)")
_METRICS = re.compile(
    r"^\{['\"](?:loss|train_loss|eval_loss|train_runtime|reward|learning_rate|grad_norm)['\"]:"
    r"|^Saving model checkpoint to |^\*{5} Running (?:training|Evaluation) \*{5}"
)
_TQDM_BEFORE = re.compile(r"\|.*\]\s*$")

SIGNALS = {4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV"}
SIGNALS.update({15: "SIGTERM", 5: "SIGTRAP", 13: "SIGPIPE"})
_DEATHS = {
    "Segmentation fault": 11,
    "Aborted": 6,
    "Bus error": 7,
    "Illegal instruction": 4,
    "Floating point exception": 8,
    "Killed": 9,
}
_DEATH = "|".join(_DEATHS)
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
_FAULT = re.compile(r"^Fatal Python error: (?P<msg>.+)")
_TERMINATE = re.compile(r"^terminate called (?:after throwing an instance of '(?P<cls>[^']+)'|.+)")
_WHAT = re.compile(r"^\s*what\(\):\s+(?P<msg>.+)")
_CPP_LIB = re.compile(r"[\\/](?:site|dist)-packages[\\/](?P<pkg>[^\\/]+)[\\/]")
MAX_MESSAGE_LINES = 20
MAX_JUNK_LINES = 50
MAX_OPEN_LINES = 5000
"""Lines one traceback or dump may span: past that it is not one (an indented data dump
after a stray header), and the scan stops reading every line for it."""


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
        return _death(number, what, _DEATHS.get(what, 9), text)
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


class _Open:
    """A traceback (or a faulthandler dump, a C++ terminate) being read in one stream."""

    def __init__(self, event: Event, mode: str) -> None:
        self.event, self.mode = event, mode
        self.state = "frames"
        self.junk = 0

    def feed(self, body: str, number: int) -> tuple[bool, bool]:
        """(the line belongs to it, it is finished)."""
        if number - self.event.start > MAX_OPEN_LINES:
            return False, True
        if self.mode == "traceback":
            return self._traceback(body, number)
        if self.mode == "fault":
            return self._fault(body, number)
        return self._terminate(body, number)

    def _traceback(self, body: str, number: int) -> tuple[bool, bool]:
        if self.state == "message":
            return self._message(body, number)
        frame = _FRAME.match(body) or _RICH_FRAME.match(body)
        if frame:
            self.event.frames.add(frame["path"], frame["line"], frame["func"])
            return True, False
        if header_at(body) >= 0:
            return False, True
        if not body.strip() or body[0].isspace() or body[0] in "│╰╭" or progress_token(body):
            return True, False
        notebook = _IPYTHON_FRAME.match(body)
        if notebook:
            path = notebook["path"] or notebook["cell"] or notebook["old"]
            line = notebook["line"] or notebook["cell_line"] or "?"
            self.event.frames.add(path, line, notebook["func"] or notebook["old_func"])
            return True, False
        if _IPYTHON_CODE.match(body):
            return True, False
        found = _EXCEPTION.match(body)
        if found:
            self.event.exception, self.event.message = found["cls"], (found["msg"] or "").strip()
            self.event.line = self.event.end = number
            self.state = "message"
            return True, False
        self.junk += 1
        return True, self.junk > MAX_JUNK_LINES

    def _message(self, body: str, number: int) -> tuple[bool, bool]:
        text = body.strip()
        ends = not text or header_at(body) >= 0 or text in _CHAINS or progress_token(body)
        if ends or text.startswith("Exception ignored in") or line_event(body, number):
            return bool(not text), True
        event = self.event
        event.more.append(text)
        event.end = number
        if not event.message:
            event.message = text
        limit = MAX_MESSAGE_LINES * (3 if event.exception.endswith("ChildFailedError") else 1)
        return True, len(event.more) >= limit

    def _fault(self, body: str, number: int) -> tuple[bool, bool]:
        text = body.strip()
        if text.startswith("Current thread"):
            self.state = "current"
        elif text.startswith("Thread 0x"):
            self.state = "other"
        elif text.startswith("Extension modules:"):
            return True, True
        elif body[:1].isspace() and (frame := _FRAME.match(body)):
            if self.state == "current":
                self.event.frames.add(frame["path"], frame["line"], frame["func"])
        elif text:
            return False, True
        self.event.end = number
        return True, False

    def _terminate(self, body: str, number: int) -> tuple[bool, bool]:
        text = body.strip()
        what = _WHAT.match(body)
        if what:
            self.event.message = self.event.message or what["msg"].strip()
        elif not (text.startswith(("frame #", "Exception raised from")) or body[:1].isspace()):
            return not text, True
        library = _CPP_LIB.search(text)
        if library and not self.event.frames.library:
            self.event.frames.library = library["pkg"]
        self.event.end = number
        return True, False


@dataclass
class _Stream:
    open: _Open | None = None
    chain: str = ""
    chain_at: int = -(10**9)
    ignored_at: int = -(10**9)


class LineReader:
    """Reads failures out of lines fed in order; each stream keeps its own state."""

    def __init__(self) -> None:
        self._streams: dict[str, _Stream] = {}

    @property
    def busy(self) -> bool:
        """Something is being read that the next lines belong to."""
        return any(s.open is not None for s in self._streams.values())

    def read(self, text: str, number: int) -> list[Event]:
        """The events that line `number` completes or shows."""
        done: list[Event] = []
        for piece in pieces(text):
            stream, body = split_stream(piece.removeprefix("\ufeff"))
            done += self._settle_others(stream)
            state = self._streams.get(stream)
            if state is None:
                if len(self._streams) > 256:  # a log with endless pids: forget idle ones
                    self._streams = {k: v for k, v in self._streams.items() if v.open}
                state = self._streams[stream] = _Stream()
            done += self._piece(state, stream, body, number)
        return done

    def _settle_others(self, stream: str) -> list[Event]:
        """Another stream speaks: tracebacks of other streams past their exception line are
        complete (their message may go on, but the ranks interleave)."""
        done: list[Event] = []
        for name, state in self._streams.items():
            opened = state.open
            if name != stream and opened is not None and opened.state == "message":
                done.append(opened.event)
                state.open = None
        return done

    def close(self) -> list[Event]:
        """Whatever is still open, as read so far (the log ends inside it)."""
        done = [s.open.event for s in self._streams.values() if s.open is not None]
        for state in self._streams.values():
            state.open = None
        return done

    def _piece(self, state: _Stream, stream: str, body: str, number: int) -> list[Event]:
        done: list[Event] = []
        if state.open is not None:
            belongs, finished = state.open.feed(body, number)
            if finished:
                opened, state.open = state.open, None
                if opened.state != "frames" or opened.mode != "traceback":
                    done.append(opened.event)
            if belongs:
                return done
        text = body.strip()
        if not text:
            return done
        started = self._start(state, stream, body, number)
        if started is not None:
            done += started
        return done

    def _start(self, state: _Stream, stream: str, body: str, number: int) -> list[Event] | None:
        text = body.strip()
        at = header_at(body)
        if at >= 0:
            event = Event("traceback", number, number, number, stream=stream)
            if number - state.chain_at <= 3:
                event.chain = state.chain
            event.ignored = number - state.ignored_at <= 3
            state.open, state.chain = _Open(event, "traceback"), ""
            return []
        if text in _CHAINS:
            state.chain, state.chain_at = _CHAINS[text], number
            return []
        if text.startswith("Exception ignored in"):
            state.ignored_at = number
            return []
        return self._start_crash(state, stream, text, number)

    def _start_crash(self, state: _Stream, stream: str, text: str, number: int) -> list[Event]:
        fault, terminate = _FAULT.match(text), _TERMINATE.match(text)
        if fault or terminate:
            if fault:
                what = fault["msg"].strip()
                event = Event("crash", number, number, number, stream=stream,
                              exception="Fatal Python error", message=what,
                              signal=_DEATHS.get(what, 0))  # fmt: skip
            else:
                cls = terminate["cls"] or "std::terminate"
                message = "" if terminate["cls"] else text
                event = Event("crash", number, number, number, stream=stream, exception=cls,
                              message=message, signal=6, search=text)  # fmt: skip
            event.frames.deepest_first = True
            state.open = _Open(event, "fault" if fault else "terminate")
            return []
        token = progress_token(text)
        if token is not None:
            return [Event("progress", number, number, number, stream=stream, token=token)]
        event = line_event(text, number)
        if event is not None:
            event.stream = stream
            return [event]
        return []
