"""`cockpit runs --all-hosts`: this machine's runs and those of every `[[hosts]]` machine.

Each host's list is what `cockpit runs --json` prints there (run over ssh, all hosts at
once); a host that cannot be read is named with the cause and the fix, on stderr, and makes
the exit status 1. `--json` prints `{"runs": [... each with "host"], "hosts": [...]}`.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from cockpit.redact import redact_json
from cockpit.remote.ssh import RemoteResult, SshFailure, remote_cockpit, run_remote
from cockpit.runs.status import format_duration
from cockpit.runs.store import list_runs
from cockpit.settings import Host, load_settings, settings_path
from cockpit.termsafe import safe, safe_line

LOCAL = "local"
"""The HOST of this machine's runs."""
TIMEOUT_S = 60.0
_COLUMNS = ("HOST", "ID", "PROFILE", "ENGINE", "STATUS", "STEP", "LOSS", "STARTED", "DURATION")


def all_hosts_main(as_json: bool, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print every host's runs (a table, or JSON); exit 0, or 1 when a host was not read."""
    out, err = out or sys.stdout, err or sys.stderr
    hosts = load_settings()[0].hosts
    if not hosts:
        print(f"no [[hosts]] in {settings_path()}: add one (name = \"gpu-box\") to list its "
              "runs here too", file=err)  # fmt: skip
    runs = [{"host": LOCAL, **redact_json(s.to_json())} for s in list_runs()]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(hosts)))) as pool:
        answers = list(pool.map(_host_runs, hosts))
    failures: list[tuple[Host, SshFailure]] = []
    for host, (host_runs, failure) in zip(hosts, answers, strict=True):
        runs += host_runs
        if failure is not None:
            failures.append((host, failure))
    if as_json:
        print(json.dumps({"runs": runs, "hosts": _host_states(hosts, failures)}, indent=2),
              file=out)  # fmt: skip
    else:
        _print_table(runs, out)
    for host, failure in failures:
        print(safe(f"{host.name}: not read: {failure.cause}; {failure.fix}"), file=err)
    return 1 if failures else 0


def _host_runs(host: Host) -> tuple[list[dict[str, Any]], SshFailure | None]:
    """The runs `cockpit runs --json` lists on `host` (each with its HOST), or why not."""
    argv = [*remote_cockpit(host.python), "runs", "--json"]
    result = run_remote(host.target, argv, timeout=TIMEOUT_S, name=host.name, python=host.python)
    if result.failure is not None:
        return [], result.failure
    listed = _run_list(result)
    if listed is None:
        cause = f"cockpit on {host.name} printed no run list"
        return [], SshFailure(cause, f"run `ssh {host.target} cockpit runs --json` to see why")
    return [{**redact_json(run), "host": host.name} for run in listed], None


def _run_list(result: RemoteResult) -> list[dict[str, Any]] | None:
    try:
        listed = json.loads(result.stdout)
    except ValueError:
        return None
    if not isinstance(listed, list):
        return None
    return [run for run in listed if isinstance(run, dict)]


def _host_states(hosts: tuple[Host, ...], failures: list[tuple[Host, SshFailure]]) -> list[dict]:
    failed = {host.name: failure for host, failure in failures}
    states = []
    for host in hosts:
        failure = failed.get(host.name)
        state = {"name": host.name, "ssh": host.target, "ok": failure is None}
        if failure is not None:
            state.update(cause=failure.cause, fix=failure.fix)
        states.append(state)
    return states


def _print_table(runs: list[dict[str, Any]], out: TextIO) -> None:
    rows = [_COLUMNS, *(_row(run) for run in runs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip(), file=out)


def _row(run: dict[str, Any]) -> tuple[str, ...]:
    """One run as `cockpit runs` shows it, from its JSON (ours or another host's)."""
    step, total, loss = run.get("step"), run.get("total_steps"), run.get("last_loss")
    started = run.get("started") or run.get("created")
    duration = run.get("duration_s")
    return tuple(
        safe_line(str(value))
        for value in (
            run.get("host", "?"),
            run.get("id", "?"),
            run.get("profile") or "?",
            run.get("engine") or "?",
            run.get("status", "?"),
            f"{step if step is not None else '-'}/{total or '?'}",
            f"{loss:.4f}" if isinstance(loss, (int, float)) else "-",
            started.replace("T", " ")[:16] + "Z" if isinstance(started, str) else "-",
            format_duration(duration) if isinstance(duration, (int, float)) else "-",
        )
    )
