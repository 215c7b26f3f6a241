"""Tracebacks read as they stream past, one reader per output stream.

Lines come one at a time, so a traceback may span the chunks of a 200 MB scan. Each
output stream (``[rank0]:``, ``[default1]:``, ``(pid=12)``) has its own reader, because
ranks print their tracebacks interleaved line by line. Indentation is kept: it tells a
traceback's code lines from the exception line that ends it. Besides Python's own format:
rich's boxed tracebacks, IPython/Jupyter/Colab's, faulthandler's dump after a "Fatal
Python error", and a C++ ``terminate called`` with its ``what()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cockpit.knowledge.failures import (
    DEATHS,
    Event,
    header_at,
    line_event,
    pieces,
    progress_token,
    split_stream,
)

_FRAME = re.compile(r'^\s+File "(?P<path>[^"]+)", line (?P<line>\d+)(?:,? in (?P<func>.+))?$')
_RICH_FRAME = re.compile(r"^│\s+(?P<path>\S+\.py):(?P<line>\d+) in (?P<func>\S+)")
# IPython / Jupyter / Colab, as users paste them: "Cell In[5], line 3", "File ~/…/trainer.py:1553,
# in Trainer.train(self)" (IPython 8) or "/…/trainer.py in train(self)" (older); code "---->".
_IPYTHON_FRAME = re.compile(
    r"^(?:File (?P<path>\S.*?):(?P<line>\d+), in (?P<func>[^(\s]+)"
    r"|(?P<cell>Cell In ?\[\d+\]), line (?P<cell_line>\d+)"
    r"|(?P<old>\S+\.py|<ipython-input-[\w-]+>) in (?P<old_func>[^(\s]+))"
)
_IPYTHON_CODE = re.compile(r"^-*>|^-{10,}$")
_EXCEPTION = re.compile(r"^(?P<cls>[A-Za-z_][\w.]*)(?::(?:\s+(?P<msg>.*))?)?$")
_CHAINS = {
    "During handling of the above exception, another exception occurred:": "context",
    "The above exception was the direct cause of the following exception:": "cause",
}
_FAULT = re.compile(r"^Fatal Python error: (?P<msg>.+)")
_TERMINATE = re.compile(r"^terminate called (?:after throwing an instance of '(?P<cls>[^']+)'|.+)")
_WHAT = re.compile(r"^\s*what\(\):\s+(?P<msg>.+)")
_CPP_LIB = re.compile(r"[\\/](?:site|dist)-packages[\\/](?P<pkg>[^\\/]+)[\\/]")
MAX_MESSAGE_LINES = 20
MAX_JUNK_LINES = 50
MAX_OPEN_LINES = 5000
"""Lines one traceback or dump may span: past that it is not one (an indented data dump
after a stray header), and the scan stops reading every line for it."""


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
                              signal=DEATHS.get(what, 0))  # fmt: skip
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
