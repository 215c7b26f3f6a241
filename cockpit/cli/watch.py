"""`cockpit watch [--once] [--json] [--stream]`: the Hardware place's snapshot, printed headless.

`--stream` is what the fleet view reads over ssh: one JSON line per interval (the snapshot,
this host's name and its active runs; `cockpit.remote.stream`), flushed, until SIGINT,
SIGTERM or SIGHUP, until the reader closes stdout, or until stdin ends when it is a pipe (ssh
closes it when the connection goes). Every ending exits 0, quietly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from cockpit.hardware.format import snapshot_lines
from cockpit.hardware.sampler import open_sampler
from cockpit.termsafe import safe

if TYPE_CHECKING:
    from cockpit.runs.store import EventFolds


def watch_main(
    simulate: str | None, as_json: bool, once: bool, interval: float, stream: bool = False
) -> int:
    """Print a snapshot every `interval` seconds (one with `once`) until Ctrl-C; exit 0."""
    if stream:
        return stream_main(simulate, interval, once=once)
    sampler = open_sampler(simulate)
    try:
        while True:
            snap = sampler.sample()
            if as_json:
                print(json.dumps(snap.to_json()), flush=True)
            else:
                print(safe("\n".join(snapshot_lines(snap))), flush=True)
            if once:
                return 0
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0
    finally:
        sampler.close()


def stream_main(
    simulate: str | None, interval: float, *, once: bool = False, out: TextIO | None = None
) -> int:
    """Print a stream line every `interval` seconds until told to stop (see the module)."""
    from cockpit import __version__
    from cockpit.remote.stream import stream_line
    from cockpit.runs.store import EventFolds
    from cockpit.settings import apply_runs_dir, load_settings

    apply_runs_dir(load_settings()[0])  # this host's runs, where its settings keep them
    out = out or sys.stdout
    stop = threading.Event()
    _stop_on_signals(stop)
    _stop_when_stdin_ends(stop)
    host, folds = socket.gethostname(), EventFolds()
    sampler = open_sampler(simulate)
    try:
        while not stop.is_set():
            snapshot = sampler.sample().to_json()
            out.write(stream_line(host, __version__, snapshot, _active_runs(folds)))
            out.flush()
            if once:
                break
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:  # the reader went away: nothing left to say, and no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    finally:
        sampler.close()
    return 0


def _active_runs(folds: EventFolds) -> list[dict[str, Any]]:
    """This host's starting and running runs, as `cockpit runs --json` lists them."""
    from cockpit.redact import redact_json
    from cockpit.runs.store import list_runs

    return [redact_json(s.to_json()) for s in list_runs(folds=folds) if s.active]


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGHUP end the stream as Ctrl-C does."""
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, lambda *_: stop.set())


def _stop_when_stdin_ends(stop: threading.Event) -> None:
    """Set `stop` when stdin reaches its end, if it is a pipe or socket (what ssh gives);
    a terminal or /dev/null is left alone."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return

    def drain() -> None:
        try:
            while os.read(sys.stdin.fileno(), 65536):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=drain, name="stream-stdin", daemon=True).start()
