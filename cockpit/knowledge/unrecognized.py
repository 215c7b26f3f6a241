"""``unrecognized_error``: a failure no catalog cause explains, said precisely.

A user who opens a failed run must always get an answer. When the log shows a failure
(a traceback, a killed or crashed process, a fatal error line) and no known cause matches
near it, one finding says what failed: the exception and message, the library that raised
it, the last frame in the user's own code, and what to search for.

What counts as one failure, and why:

- every rank printing the same traceback, or a retry printing it again, is one failure
  (the same exception and message, numbers and paths aside), reported once with a count;
- a chain ("During handling of the above exception…", "The above exception was the
  direct cause…") is one failure: the last exception ended the process, and the first is
  named beside it, since it is often the more telling one;
- a launcher reporting a child's death (torchrun's ChildFailedError, accelerate's
  CalledProcessError, DeepSpeed's "exits with return code", "Killed" or "Segmentation
  fault" from the shell) adds how the process ended to the failure it follows, and is a
  failure of its own only when nothing else explains the death;
- a traceback after which training goes on (a metrics line, a progress bar moving) was
  handled: no finding, since the run did not die of it; likewise Python's "Exception
  ignored in";
- a plain ``Error:``/``ERROR`` line or a lone exception line is fatal only when the log
  ends with it (error lines are common in logs that went on fine);
- distinct failures each get a finding (two ranks dying of different errors are two
  problems); a known cause matched inside a failure's lines, or an error-severity one
  just around them, explains it: no finding.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from dataclasses import dataclass, field

from cockpit.knowledge.failures import NOT_FAILURES, SIGNALS, Event
from cockpit.knowledge.findings import UNRECOGNIZED, Failure, Match
from cockpit.knowledge.tracebacks import LineReader
from cockpit.redact import redact

AFTER_LINES = 200
"""Lines watched after a failure for training going on (it was handled) or a launcher's
word on how the process ended."""
KNOWN_BEFORE, KNOWN_AFTER = 10, 30
"""An error-severity known cause this close before or after a failure explains it."""
WEAK_TAIL_LINES = 10
"""An error line is fatal when at most this many lines follow it to the end of the log."""
MAX_TEXT = 240
_VERSION = re.compile(
    r"\b(?P<pkg>torch|transformers|trl|peft|accelerate|datasets|bitsandbytes|unsloth_zoo"
    r"|unsloth|vllm|deepspeed|flash[-_]attn|triton|xformers|tokenizers|safetensors"
    r"|huggingface[-_]hub|numpy)(?:`?\s+version)?\s*(?:==|:|=|\s|-)\s*v?"
    r"(?P<ver>\d+\.\d+(?:\.\d+)?(?:[.+\w-]*\w)?)",
    re.IGNORECASE,
)
VERSION_ANCHORS = tuple(
    f"{pkg}{sep}"
    for pkg in ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "bitsandbytes",
                "unsloth", "vllm", "deepspeed", "flash_attn", "flash-attn", "triton", "xformers")
    for sep in (" ", "=", ":", "-", "` ")
)  # fmt: skip
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@~+-]+){2,}[\\/]?")
_NOISE = re.compile(r"0x[0-9a-fA-F]+|(?<![\w.])\d+(?:x\d+)+\b|(?<![\w.])\d+(?:\.\d+)*(?!\w)")
_STOPPED = re.compile(r"signal:? (?:2|15)\b|\((?:SIGINT|SIGTERM)\)|exit code 1(?:30|43)\b")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CHAIN = {"context": "the last error happened while handling it", "cause": "the direct cause"}
_WRAPPERS = ("ChildFailedError",)
_LAUNCHERS = ("accelerate", "torch", "deepspeed")
TRACKERS = {
    "transformers": "https://github.com/huggingface/transformers/issues",
    "trl": "https://github.com/huggingface/trl/issues",
    "peft": "https://github.com/huggingface/peft/issues",
    "accelerate": "https://github.com/huggingface/accelerate/issues",
    "datasets": "https://github.com/huggingface/datasets/issues",
    "torch": "https://github.com/pytorch/pytorch/issues",
    "bitsandbytes": "https://github.com/bitsandbytes-foundation/bitsandbytes/issues",
    "unsloth": "https://github.com/unslothai/unsloth/issues",
    "unsloth_zoo": "https://github.com/unslothai/unsloth-zoo/issues",
    "vllm": "https://github.com/vllm-project/vllm/issues",
    "deepspeed": "https://github.com/deepspeedai/DeepSpeed/issues",
}


@dataclass
class _Pending:
    """A failure read, not reported yet: its window may still show it was handled."""

    event: Event
    start: int
    strong: bool
    key: tuple[str, str]
    first: str = ""
    exit: str = ""
    count: int = 1
    steps: set[str] = field(default_factory=set)
    """Progress seen since (bar step counts; "*" for a metrics line)."""


class FailureTracker:
    """Turns the failures read from a log into unrecognized_error findings."""

    def __init__(self) -> None:
        self._reader = LineReader()
        self._pending: list[_Pending] = []
        self._weak: _Pending | None = None
        self._reported: set[tuple[str, str]] = set()
        self._known: deque[tuple[int, str]] = deque(maxlen=256)
        self._last_in_stream: dict[str, _Pending] = {}
        self._recent = -(10**9)
        """The line of the last failure or known error (a launcher's exit after it is its)."""
        self._latest: _Pending | None = None
        """The failure `_recent` is about (None when it is a known cause)."""
        self.versions: dict[str, str] = {}

    @property
    def active(self) -> bool:
        """The tracker wants every line now, not only lines with a keyword."""
        return bool(self._pending) or self._reader.busy

    def copy(self) -> FailureTracker:
        return copy.deepcopy(self)

    def known(self, number: int, severity: str) -> None:
        """A catalog cause matched at line `number`."""
        self._known.append((number, severity))
        if severity == "error" and number >= self._recent:
            self._recent, self._latest = number, None

    def note_versions(self, text: str) -> None:
        """Remember package versions the log states (banners, pip, env reports)."""
        for found in _VERSION.finditer(text):
            name = found["pkg"].lower().replace("-", "_")
            self.versions[name] = found["ver"].rstrip(".")

    def line(self, text: str, number: int) -> list[Match]:
        """Read one line; the findings whose failures are now settled."""
        found = self._due(number)
        for event in self._reader.read(text, number):
            self._event(event)
        return found

    def finish(self, last_line: int) -> list[Match]:
        """The end of the log: every failure still open is settled."""
        for event in self._reader.close():
            if not event.exception:
                event.exception, event.message = "Traceback", "the log ends inside a traceback"
            self._event(event)
        found = self._due(None)
        weak = self._weak
        if weak is not None and last_line - weak.event.end <= WEAK_TAIL_LINES:
            found += self._report(weak)
        self._weak = None
        return found

    def _due(self, number: int | None) -> list[Match]:
        """Report the failures whose window closed before line `number` (all if None)."""
        found: list[Match] = []
        while self._pending and (
            number is None or number > self._pending[0].event.end + AFTER_LINES
        ):
            found += self._report(self._pending.pop(0))
        return found

    def _event(self, event: Event) -> None:
        if event.kind == "progress":
            self._progress(event)
        elif event.kind == "weak":
            if event.line - self._recent > AFTER_LINES:
                self._weak = _Pending(event, event.start, False, _key(event))
        elif _stopped(event):
            return
        elif event.kind == "exit" or _is_wrapper(event):
            self._exit(event)
        elif not event.ignored:
            self._failure(event)

    def _progress(self, event: Event) -> None:
        for pending in self._pending:
            pending.steps.add(event.token)
        if any(_handled(p) for p in self._pending):
            self._pending = [p for p in self._pending if not _handled(p)]
            self._weak, self._recent, self._latest = None, -(10**9), None

    def _failure(self, event: Event) -> None:
        self._recent = event.end
        previous = self._last_in_stream.get(event.stream)
        pending = _Pending(event, event.start, True, _key(event))
        if event.chain and previous is not None:
            pending.start = previous.start
            pending.first = previous.first or f"{_said(previous.event)} ({_CHAIN[event.chain]})"
            self._pending = [p for p in self._pending if p is not previous]
        self._last_in_stream[event.stream] = pending
        if self._weak is not None and self._weak.event.line >= event.start - 50:
            self._weak = None
        twin = next((p for p in self._pending if p.key == pending.key), None)
        if twin is not None:
            twin.count += 1
            self._last_in_stream[event.stream] = pending = twin
        elif pending.key not in self._reported:
            self._pending.append(pending)
        self._latest = pending

    def _exit(self, event: Event) -> None:
        ended = event.exit or _exit_of(event)
        if event.line - self._recent <= AFTER_LINES:
            self._recent = event.line
            if self._latest is not None and not self._latest.exit:
                self._latest.exit = ended
            return
        self._recent = event.line
        weak = self._weak
        if weak is not None and event.line - weak.event.end <= AFTER_LINES:
            weak.exit, weak.strong, self._weak = ended, True, None  # the error line was fatal
            self._pending.append(weak)
            self._latest = weak
            return
        if event.kind != "exit":
            event.message = _child_message(event) or event.message
        pending = _Pending(event, event.start, True, _key(event), exit=ended)
        if pending.key not in self._reported:
            self._pending.append(pending)
        self._latest = pending

    def _report(self, pending: _Pending) -> list[Match]:
        if pending.key in self._reported or self._explained(pending):
            return []
        self._reported.add(pending.key)
        return [to_match(pending, self.versions)]

    def _explained(self, pending: _Pending) -> bool:
        start, end = pending.start, pending.event.end
        return any(
            start <= line <= end
            or (severity == "error" and start - KNOWN_BEFORE <= line <= end + KNOWN_AFTER)
            for line, severity in self._known
        )


def _stopped(event: Event) -> bool:
    """A run stopped on purpose (Ctrl-C, SIGTERM from `cockpit stop` or a scheduler): not
    a failure to explain."""
    if event.exception.rsplit(".", 1)[-1] in NOT_FAILURES:
        return True
    text = f"{event.exit} {event.message}" if event.kind == "exit" else ""
    if event.exception.endswith("SignalException"):
        text = event.message
    return bool(_STOPPED.search(text))


def _handled(pending: _Pending) -> bool:
    """Training went on after it: a metrics line, or a bar showing two different steps."""
    return "*" in pending.steps or len(pending.steps) >= 2


def _is_wrapper(event: Event) -> bool:
    """A launcher's traceback reporting that a child process failed."""
    if event.kind != "traceback":
        return False
    if event.exception.endswith(_WRAPPERS):
        return True
    launcher = event.frames.library in _LAUNCHERS and not event.frames.user
    return event.exception.endswith("CalledProcessError") and launcher


def _exit_of(event: Event) -> str:
    """How a launcher's traceback says the child ended (exit code or signal)."""
    text = " ".join([event.message, *event.more])
    signal = re.search(r"Signal (\d+) \((SIG\w+)\)|died with <Signals\.(SIG\w+): (\d+)>", text)
    if signal:
        number = signal[1] or signal[4]
        return f"signal {number} ({signal[2] or signal[3]})"
    code = re.search(r"exitcode\s*:\s*(-?\d+)|non-zero exit status (\d+)", text)
    if code:
        value = int(code[1] or code[2])
        return (
            f"signal {-value} ({SIGNALS.get(-value, '?')})" if value < 0 else f"exit code {value}"
        )
    return ""


def _child_message(event: Event) -> str:
    """A launcher's own account when it is all there is: "train.py FAILED, rank 0"."""
    failed = next((line for line in event.more if line.endswith("FAILED")), "")
    rank = next((line for line in event.more if line.startswith("rank ")), "")
    cause = next((line for line in event.more if line.startswith("traceback :")), "")
    parts = [failed, rank.replace("  ", " "), cause.removeprefix("traceback :").strip()]
    return ", ".join(part for part in parts if part)


def _said(event: Event) -> str:
    """The error as the log put it (see `Failure.said`)."""
    exception, message = event.exception, event.message
    if event.kind in ("exit", "weak") and not exception.endswith(("Error", "Exception")):
        return message or exception
    return Failure(exception, message).said()


def _key(event: Event) -> tuple[str, str]:
    return event.exception.rsplit(".", 1)[-1], search_text(event.message)


def search_text(message: str) -> str:
    """A message with the parts that differ between runs removed (paths, numbers, ids)."""
    text = _NOISE.sub("", _PATH.sub("", message))
    text = re.sub(r"\((?:[\s,]|and)*\)|\[[\s,]*\]", "", text)
    text = re.sub(r"\s+([.,;:])", r"\1", " ".join(text.replace('"', "'").split()))
    return text if len(text) <= 100 else text[:100].rsplit(" ", 1)[0]


def to_match(pending: _Pending, versions: dict[str, str]) -> Match:
    """The unrecognized_error finding of a settled failure."""
    event = pending.event
    frames = event.frames
    package = frames.library or ("torch" if event.exception.startswith("c10::") else "")
    short = event.exception.rsplit(".", 1)[-1]
    wanted = " ".join(filter(None, [package, versions.get(package, "")]))
    message = search_text(event.message)
    search = f'"{short}: {message}"' if message else f'"{short}"'
    if event.search:
        search = f'"{event.search}"'
    elif event.kind == "weak" and short == "Error":
        search = f'"{message}"'
    raised_at = frames.last if frames.last else ""
    failure = Failure(
        exception=_clip(event.exception),
        message=_clip(event.message),
        package=package,
        version=versions.get(package, "") if package else "",
        raised_at=_clip(raised_at),
        user_frame=_clip(frames.user),
        first=_clip(pending.first),
        exit=pending.exit or event.exit,
        count=pending.count,
        search=redact(f"{search} {wanted}".strip()),
    )
    where = f" in {package}" if package and raised_at != frames.user else " in your code"
    if event.kind == "exit":
        short, where = ("process ended" if short == "exit" else short), f", {failure.exit}"
    elif event.kind == "weak" and short == "Error":
        short = "the log ends with an error line"
    title = f"Unrecognized error: {short}{where if frames.last or event.kind == 'exit' else ''}"
    excerpt = _clip(_said(event))
    return Match(UNRECOGNIZED, title, "error", event.line, excerpt, fix_text(failure), failure)


def _clip(text: str) -> str:
    """One line of log text, bounded, redacted, with control characters shown as "·"."""
    text = _CONTROL.sub("·", " ".join(text.split()))
    return redact(text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…")


def fix_text(failure: Failure) -> str:
    """What to do about a failure no known cause explains: where to look, what to search."""
    steps = ["No cause in cockpit's catalog matches this error. To find the fix:"]
    if failure.user_frame and failure.raised_at == failure.user_frame:
        steps.append(f"  - it was raised in your own code at {failure.user_frame}: start there")
    elif failure.user_frame:
        steps.append(
            f"  - your code at {failure.user_frame} called {failure.package or 'a library'},"
            " which raised it: check the arguments, data and config you pass there"
        )
    elif failure.package:
        steps.append(
            f"  - it was raised inside {failure.package} with no frame of your code: check the"
            f" versions (pip show {failure.package}) and what loads it"
        )
    steps += _signal_hint(failure.exit or failure.exception)
    tracker = TRACKERS.get(failure.package, "")
    steps.append(f"  - search for {failure.search}" + (f" in {tracker}" if tracker else ""))
    steps.append("  - opening an issue? attach the post-mortem `cockpit report` writes")
    return "\n".join(steps)


def _signal_hint(ended: str) -> list[str]:
    if "SIGKILL" in ended or ended == "Killed":
        return [
            "  - killed from outside (SIGKILL): most often the kernel's out-of-memory killer"
            " (system RAM, not VRAM; see `dmesg | grep -i oom`) or a scheduler's limit;"
            " lower dataloader workers, batch size or shard loading memory"
        ]
    if "SIGSEGV" in ended or "Segmentation" in ended:
        return [
            "  - a crash in native code (SIGSEGV): usually a compiled extension (bitsandbytes,"
            " flash-attn, xformers, triton) built for another torch/CUDA; run `cockpit doctor`"
        ]
    if "SIGBUS" in ended or "Bus error" in ended:
        return ["  - a bus error: in containers usually /dev/shm too small (docker --shm-size)"]
    if "SIGABRT" in ended or "Aborted" in ended:
        return ["  - aborted by native code (an assertion or a C++ exception): see the lines above"]
    return []
