"""`cockpit notify [RUN_ID]`: try the run-end notification on the `[notify] urls` of settings.

Without a run, a test message; with one, that run's ending as its reaper sent it (again).
"""

from __future__ import annotations

import socket
import sys
from typing import TextIO

from cockpit.runs.notify import describe, notify_run_ended, send
from cockpit.runs.store import RunStoreError, find_run
from cockpit.settings import load_settings, settings_path

EXAMPLE = '[notify]\nurls = ["ntfy://my-topic"]'


def notify_main(run_id: str | None, out: TextIO = sys.stdout) -> int:
    settings, problems = load_settings()
    for problem in problems:
        print(problem, file=sys.stderr)
    urls = settings.notify_urls
    if not urls:
        print(f"No [notify] urls in {settings_path()}. Add, for example:\n{EXAMPLE}", file=out)
        print("(every service apprise knows: https://github.com/caronc/apprise/wiki)", file=out)
        return 1
    if run_id is None:
        title = "cockpit: test notification"
        body = f"Run-end notifications from {socket.gethostname()} arrive here."
        delivered, error = send(urls, title, body, "info")
    else:
        try:
            run = find_run(run_id)
        except RunStoreError as error:
            print(f"cockpit notify: {error}", file=sys.stderr)
            return 2
        outcome = notify_run_ended(run.path, urls)
        delivered, error = bool(outcome and outcome["ok"]), str((outcome or {}).get("error", ""))
    where = ", ".join(describe(url) for url in urls)
    if delivered:
        print(f"Sent to {len(urls)} URL{'s' * (len(urls) > 1)}: {where}", file=out)
        return 0
    print(f"Not delivered ({where}): {error}", file=out)
    return 1
