"""Talking to what a run trained: the client of `python -m engines chat` (engines/chat.py).

The engine process runs under the run's training interpreter (its frozen profile's
`[env] python`), loads the base model and adapter once, and answers requests one at a time
with text as it is generated (the line protocol in engines.protocol, CHAT_*). Its log
(loading notes, a traceback) goes to the run's `chat.log`. Used by `cockpit try` and the
Runs place's chat pane; one `ChatEngine` per open chat, closed with it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from cockpit.redact import redact
from cockpit.runs.engine_env import EngineCommandError, run_engine_command, run_engine_env
from cockpit.runs.store import RunDir, file_tail

CHAT_LOG = "chat.log"
LOG_TAIL_BYTES = 4096


class ChatError(Exception):
    """The chat engine could not start, or stopped answering: the message says why."""


@dataclass(frozen=True)
class Generation:
    """What the user asked for one answer."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    """0 = greedy (the same answer each time: what comparing needs)."""
    top_p: float = 1.0
    seed: int | None = None


@dataclass
class Answer:
    """One finished answer: its text and how fast it came."""

    text: str
    tokens: int
    seconds: float
    tokens_per_s: float | None
    first_token_s: float | None
    stopped: bool
    adapter: bool

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def chat_command(run: RunDir, checkpoint: int | None = None) -> list[str]:
    """The chat engine's command line: the run's training interpreter, `-m engines chat`."""
    tail = ["--checkpoint", str(checkpoint)] if checkpoint is not None else []
    try:
        return run_engine_command(run, "chat", str(run.path), *tail)
    except EngineCommandError as error:
        raise ChatError(str(error)) from error


class ChatEngine:
    """One engine process answering for one run. Not thread-safe: one asker at a time
    (`stop` may come from another thread)."""

    def __init__(self, run: RunDir, checkpoint: int | None = None) -> None:
        self.run = run
        self.ready: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._current: str | None = None
        self._write_lock = threading.Lock()
        env = run_engine_env(run)
        self._log_path = run.path / CHAT_LOG
        with open(self._log_path, "ab") as log:
            self._proc = subprocess.Popen(
                chat_command(run, checkpoint),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )

    # -- the conversation -----------------------------------------------------------------

    def wait_ready(self) -> dict[str, Any]:
        """Block until the model is loaded; its `ready` facts (raises ChatError if not)."""
        if not self.ready:
            reply = self._next()
            if reply.get("kind") != "ready":
                raise ChatError(self._failure(reply))
            self.ready = reply
        return self.ready

    @property
    def can_compare(self) -> bool:
        return bool(self.wait_ready().get("can_compare"))

    def ask(
        self,
        messages: Sequence[dict[str, str]],
        generation: Generation = Generation(),
        *,
        adapter: bool = True,
    ) -> Iterator[str | Answer]:
        """Text pieces as they are generated, then the finished `Answer`."""
        self.wait_ready()
        rid = str(next(self._ids))
        request = {"op": "generate", "id": rid, "messages": list(messages), "adapter": adapter}
        request |= {k: v for k, v in generation.__dict__.items() if v is not None}
        self._send(request)
        self._current = rid
        try:
            while True:
                reply = self._next()
                kind = reply.get("kind")
                if reply.get("id") != rid:
                    continue  # a late piece of an answer that was given up
                if kind == "token":
                    yield str(reply.get("text", ""))
                elif kind == "end":
                    yield _answer(reply)
                    return
                elif kind == "error":
                    raise ChatError(redact(str(reply.get("message"))))
        finally:
            self._current = None

    def answer(
        self, messages: Sequence[dict[str, str]], generation: Generation = Generation(), **kw: Any
    ) -> Answer:
        """The whole answer at once."""
        *_, last = self.ask(messages, generation, **kw)
        assert isinstance(last, Answer)
        return last

    def eval_rows(self, count: int) -> dict[str, Any]:
        """Up to `count` rows to ask with their reference answers: the run's eval split, or
        (`split` "train") rows it trained on when it held none out."""
        self.wait_ready()
        rid = f"rows-{next(self._ids)}"
        self._send({"op": "eval_rows", "id": rid, "n": count})
        while True:
            reply = self._next()
            if reply.get("id") != rid:
                continue
            if reply.get("kind") == "error":
                raise ChatError(redact(str(reply.get("message"))))
            return reply

    def stop(self) -> None:
        """End the answer being generated now (its `Answer` says stopped)."""
        if self._current is not None:
            self._send({"op": "stop", "id": self._current})

    def close(self, timeout: float = 5.0) -> None:
        """Let the engine go (quit, then a kill if it does not)."""
        with contextlib.suppress(ChatError):
            self._send({"op": "quit"})
        with contextlib.suppress(OSError):
            self._proc.stdin.close()  # type: ignore[union-attr]
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(OSError):
            self._proc.stdout.close()  # type: ignore[union-attr]

    def __enter__(self) -> ChatEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the pipe ---------------------------------------------------------------------------

    def _send(self, request: dict[str, Any]) -> None:
        stdin: IO[str] = self._proc.stdin  # type: ignore[assignment]
        try:
            with self._write_lock:
                stdin.write(json.dumps(request) + "\n")
                stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise ChatError(self._failure({})) from exc

    def _next(self) -> dict[str, Any]:
        stdout: IO[str] = self._proc.stdout  # type: ignore[assignment]
        while True:
            line = stdout.readline()
            if not line:
                self._proc.wait()
                raise ChatError(self._failure({}))
            with contextlib.suppress(ValueError):
                reply = json.loads(line)
                if isinstance(reply, dict):
                    return reply

    def _failure(self, reply: dict[str, Any]) -> str:
        """Why the engine is not answering: its own words, else its log's last lines."""
        if reply.get("kind") == "error":
            said = str(reply.get("message"))
        else:
            code = self._proc.poll()
            said = "the chat engine ended" + (f" (exit {code})" if code is not None else "")
            tail = "\n".join(file_tail(self._log_path, 8, LOG_TAIL_BYTES))
            if tail:
                said += f"; the end of {self._log_path}:\n{tail}"
        return redact(said)


def _answer(reply: dict[str, Any]) -> Answer:
    return Answer(
        text=str(reply.get("text", "")),
        tokens=int(reply.get("tokens") or 0),
        seconds=float(reply.get("seconds") or 0.0),
        tokens_per_s=reply.get("tokens_per_s"),
        first_token_s=reply.get("first_token_s"),
        stopped=bool(reply.get("stopped")),
        adapter=bool(reply.get("adapter", True)),
    )
