"""Try a run (`t` in Runs): chat with what it trained, the base model beside it on demand.

The model runs in the chat engine process (cockpit.runs.chat, under the run's training
interpreter), loaded once when the pane opens and ended when it closes. Answers stream
in as they are generated; `escape` stops one, and closes the pane when none is going.
With compare on, each prompt is answered by the tuned model, then by the base (the
adapter switched off in the same process). The conversation carries the tuned answers.
"""

from __future__ import annotations

import threading
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from cockpit.runs.chat import Answer, ChatEngine, ChatError, Generation
from cockpit.runs.status import RunSummary
from cockpit.runs.store import RunDir

SIDES = {True: ("tuned", "$success"), False: ("base", "$warning")}


class Turn(Static):
    """One message of the transcript; an answer grows as its text arrives."""

    def __init__(self, who: str, style: str, text: str = "") -> None:
        super().__init__(classes="turn")
        self.who, self.style, self.text = who, style, text
        self.updates = 0
        """How many times text arrived (an answer streams in several)."""
        self.note = ""

    def on_mount(self) -> None:
        self._show()

    def add(self, piece: str) -> None:
        self.text += piece
        self.updates += 1
        self._show()

    def finish(self, note: str) -> None:
        self.note = note
        self._show()

    def _show(self) -> None:
        body = self.text.strip("\n") or ("…" if not self.note else "(an empty answer)")
        parts: list[Content | tuple[str, str] | str] = [(f"{self.who}  ", f"bold {self.style}")]
        parts.append(body)
        if self.note:
            parts.append((f"\n{self.note}", "$text-muted"))
        self.update(Content.assemble(*parts))


class ChatScreen(Screen[None]):
    """The chat pane of one run (or one of its checkpoints)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop_or_close", "Stop/back"),
        Binding("ctrl+b", "toggle_compare", "Compare"),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("ctrl+y", "copy_answer", "Copy"),
        Binding("ctrl+g", "focus_settings", "Settings"),
    ]

    def __init__(self, summary: RunSummary, checkpoint: int | None = None) -> None:
        super().__init__()
        self.summary = summary
        self.checkpoint = checkpoint
        self.engine: ChatEngine | None = None
        self.compare = False
        self.history: list[dict[str, str]] = []
        self.generating = False
        self._stop_asked = False
        self._closing = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="chat-transcript"):
            yield Static(id="chat-status")
        with Horizontal(id="chat-settings"):
            yield Label("system")
            yield Input(placeholder="a system prompt (optional)", id="chat-system", compact=True)
            yield Label("max tokens")
            yield Input("256", id="chat-max", compact=True, type="integer")
            yield Label("temperature")
            yield Input("0.7", id="chat-temperature", compact=True, type="number")
            yield Label("top-p")
            yield Input("0.9", id="chat-top-p", compact=True, type="number")
        with Horizontal(id="chat-ask"):
            yield Label("›", id="chat-mark")
            yield Input(placeholder="Ask something, then enter", id="chat-prompt", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        where = f"checkpoint-{self.checkpoint}" if self.checkpoint is not None else "its adapter"
        self.query_one("#chat-transcript").border_title = f"Try {self.summary.id} · {where}"
        self._status("Loading the base model and the adapter…")
        self.query_one("#chat-prompt", Input).focus()  # typing may start while it loads
        self._load()

    # -- the engine -----------------------------------------------------------------------

    @work(thread=True, group="chat-load", exit_on_error=False)
    def _load(self) -> None:
        try:
            engine = ChatEngine(RunDir(self.summary.run_dir), self.checkpoint)
            ready = engine.wait_ready()
        except (ChatError, OSError) as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        if self._closing:
            engine.close()
            return
        self.engine = engine
        self.app.call_from_thread(self._ready, ready)

    def _ready(self, ready: dict) -> None:
        compare = (
            "ctrl+b compares with the base"
            if ready.get("can_compare")
            else ("a full fine-tune: no base to compare")
        )
        self._status(
            f"{ready.get('model')} + {ready.get('weights')} on {ready.get('device')} "
            f"· loaded in {ready.get('load_s')} s · {compare}"
        )
        if self.history and not self.generating:  # asked while it loaded
            self._start_answers()

    def _failed(self, reason: str) -> None:
        self._status(f"The model could not be loaded: {reason}", error=True)
        prompt = self.query_one("#chat-prompt", Input)
        prompt.placeholder = "No model to talk to (escape: back)"
        prompt.disabled = True

    def _status(self, text: str, error: bool = False) -> None:
        self.query_one("#chat-status", Static).update(
            Content.styled(text, "$error" if error else "$text-muted")
        )

    # -- asking ---------------------------------------------------------------------------

    @on(Input.Submitted, "#chat-prompt")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text or self.generating or (self.history and self.engine is None):
            return  # one question at a time (the first may be asked while the model loads)
        event.input.value = ""
        self.history.append({"role": "user", "content": text})
        self._mount_turn("you", "$accent", text)
        if self.engine is not None:
            self._start_answers()

    def _start_answers(self) -> None:
        assert self.engine is not None
        sides = [True, False] if self.compare and self.engine.ready.get("can_compare") else [True]
        self.generating = True
        self._stop_asked = False
        self._ask(self._messages(), self._generation(), sides)

    def _messages(self) -> list[dict[str, str]]:
        system = self.query_one("#chat-system", Input).value.strip()
        return [*([{"role": "system", "content": system}] if system else []), *self.history]

    def _generation(self) -> Generation:
        def number(widget: str, default: float) -> float:
            try:
                return float(self.query_one(widget, Input).value)
            except ValueError:
                return default

        return Generation(
            max_new_tokens=max(1, int(number("#chat-max", 256))),
            temperature=max(0.0, number("#chat-temperature", 0.7)),
            top_p=min(max(number("#chat-top-p", 0.9), 0.01), 1.0),
        )

    @work(thread=True, group="chat-ask", exit_on_error=False)
    def _ask(self, messages: list[dict[str, str]], generation: Generation, sides: list) -> None:
        engine = self.engine
        if engine is None:
            return
        ui = self.app.call_from_thread
        try:
            for adapter in sides:
                if self._stop_asked:
                    break
                who, style = SIDES[adapter]
                turn = ui(self._mount_turn, who, style)
                for piece in engine.ask(messages, generation, adapter=adapter):
                    if isinstance(piece, Answer):
                        ui(self._answered, turn, piece)
                    else:
                        ui(turn.add, piece)
                if self._closing:
                    return
            ui(self._done)
        except ChatError as error:
            if not self._closing:
                ui(self._status, f"The engine stopped: {error}", True)
                ui(self._done)

    def _mount_turn(self, who: str, style: str, text: str = "") -> Turn:
        turn = Turn(who, style, text)
        transcript = self.query_one("#chat-transcript", VerticalScroll)
        transcript.mount(turn)
        transcript.scroll_end(animate=False)
        return turn

    def _answered(self, turn: Turn, answer: Answer) -> None:
        speed = f"{answer.tokens_per_s:.1f} tokens/s" if answer.tokens_per_s else "—"
        stopped = " · stopped" if answer.stopped else ""
        turn.finish(f"{answer.tokens} tokens · {speed}{stopped}")
        if answer.adapter:
            self.history.append({"role": "assistant", "content": answer.text})
        self.query_one("#chat-transcript", VerticalScroll).scroll_end(animate=False)

    def _done(self) -> None:
        self.generating = False

    # -- keys -----------------------------------------------------------------------------

    def action_stop_or_close(self) -> None:
        """Stop the answer being generated; with none going, close the pane."""
        if self.generating and self.engine is not None:
            self._stop_asked = True  # the base's answer, if one was to follow, too
            self.engine.stop()
            return
        self.dismiss()

    def action_toggle_compare(self) -> None:
        """Answer each prompt with the base model too (its adapter switched off)."""
        if self.engine is not None and not self.engine.ready.get("can_compare"):
            self.notify("A full fine-tune has no adapter to switch off", severity="warning")
            return
        self.compare = not self.compare
        self.notify(f"Compare with the base model: {'on' if self.compare else 'off'}")

    def action_new_chat(self) -> None:
        """Forget the conversation (the model stays loaded)."""
        if self.generating:
            return
        self.history.clear()
        for turn in self.query(Turn):
            turn.remove()

    def action_copy_answer(self) -> None:
        """Copy the last answer (OSC 52: works over SSH in most terminals)."""
        turns = [t for t in self.query(Turn) if t.who != "you" and t.note]
        if not turns:
            self.notify("No answer to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(turns[-1].text)
        self.notify(f"Copied the {turns[-1].who} answer")

    def action_focus_settings(self) -> None:
        """Edit the system prompt and the generation settings (tab moves on)."""
        self.query_one("#chat-system", Input).focus()

    def on_unmount(self) -> None:
        self._closing = True
        engine, self.engine = self.engine, None
        if engine is not None:  # the engine may take a moment to end: not on the UI thread
            engine.stop()
            threading.Thread(target=engine.close, name="chat-close", daemon=True).start()
