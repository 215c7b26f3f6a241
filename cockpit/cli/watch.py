"""`cockpit watch [--once] [--json]`: the Hardware place's snapshot, printed headless."""

from __future__ import annotations

import json
import time

from cockpit.hardware.format import snapshot_lines
from cockpit.hardware.sampler import open_sampler
from cockpit.termsafe import safe


def watch_main(simulate: str | None, as_json: bool, once: bool, interval: float) -> int:
    """Print a snapshot every `interval` seconds (one with `once`) until Ctrl-C; exit 0."""
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
