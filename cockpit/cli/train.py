"""`cockpit train`, `cockpit runs`, `cockpit stop`: runs from the command line.

Exit codes of `cockpit train`: 0 finished (or started with --detach, or detached from with
Ctrl-C), 1 failed or crashed (or the run could not be created or spawned), 2 refused
(profile, data, model or interpreter problem), 4 refused because it won't fit the GPU
(`--force` starts it anyway), 130 stopped.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape

from cockpit.cli.follow import echo, follow
from cockpit.redact import redact
from cockpit.remote.ssh import ssh_argv
from cockpit.runs.preflight import EXIT_INVALID, PreflightError, preflight
from cockpit.runs.ssh_launch import host_logs
from cockpit.runs.status import RunSummary, format_duration, iso_time
from cockpit.runs.store import RunDir, RunStoreError, list_runs, load_run, output_tail, runs_root
from cockpit.runs.supervisor import (
    command_text,
    engine_command,
    resume_run,
    slurm_script,
    ssh_commands,
    start_run,
    stop_run,
)
from cockpit.runs.watcher import RunWatcher
from cockpit.termsafe import safe, safe_line

EXIT_FOR_STATUS = {"finished": 0, "stopped": 130}
"""Exit code of a followed run by final status; every other status exits 1."""
_TAIL_LINES = 15


def runs_command(args: argparse.Namespace) -> int:
    """`cockpit train`, `runs` or `stop` as parsed; `train` without a profile starts the
    settings' default_profile."""
    if args.command == "runs" and args.compare:
        from cockpit.cli.compare import compare_main

        return compare_main(args.compare, args.json)
    if args.command == "runs":
        return runs_main(args.json)
    if args.command == "stop":
        return stop_main(args.run_id)
    if args.profile is None and args.resume is None:
        from cockpit.settings import load_settings, settings_path

        args.profile = load_settings()[0].default_profile
        if not args.profile:
            print(
                f"cockpit train: give a PROFILE, or set default_profile in {settings_path()}",
                file=sys.stderr,
            )
            return 2
    if args.dry_run:
        return dry_run_main(args.profile, force=args.force)
    return train_main(args.profile, detach=args.detach, force=args.force, resume=args.resume)


def dry_run_main(profile: str | None, *, force: bool = False, out: TextIO | None = None) -> int:
    """Pre-flight and print what starting `profile` would run, starting nothing. Exit 0,
    or pre-flight's code when it refuses (what would run is printed all the same)."""
    from cockpit.profiles.store import find_profile
    from cockpit.runs.store import next_run_id

    write = out or sys.stdout
    path = find_profile(profile) if profile else None
    if path is None:
        _error(f"cockpit train: no profile file or listed profile named {profile!r}")
        return EXIT_INVALID
    check = preflight(path, force=force)
    if check.profile is None:
        _error(check.describe())
        return check.exit_code
    run_id = next_run_id(check.profile.name)
    run_dir = runs_root() / run_id
    where = check.profile.launch.where
    print(f"# dry run of {path}: nothing started; the run would be {run_dir}", file=write)
    for line in check.describe().splitlines():
        print(f"# {line}", file=write)
    if where == "slurm":
        print(f"# submitted with: sbatch --parsable {run_dir / 'slurm.sbatch'}", file=write)
        print(safe(redact(slurm_script(check, run_id, run_dir, stage=False))), file=write, end="")
    elif where == "ssh":
        for rank, (host, argv) in enumerate(ssh_commands(check, run_dir, stage=False)):
            print(f"# rank {rank} on {host}; its output goes to hosts/{host}.log", file=write)
            print(safe(command_text(ssh_argv(host, argv))), file=write)
    else:
        command = engine_command(check.python, run_dir, processes=check.processes)
        print(f"# on {socket.gethostname()}:", file=write)
        print(command_text(command), file=write)
    return check.exit_code


def train_main(
    profile: str | None,
    *,
    detach: bool = False,
    force: bool = False,
    resume: str | None = None,
    out: TextIO | None = None,
) -> int:
    """Pre-flight, start (or resume) a run and follow it unless `detach`; the exit code.

    `profile`: a file or a listed profile name. With `resume` (a run id or a unique prefix)
    that run goes on in its own dir with its frozen profile, and `profile` is not used.
    """
    console = Console(file=out or sys.stdout, highlight=False, soft_wrap=True)
    try:
        run = _resume(resume, force, console) if resume else _start(profile, force, console)
    except PreflightError as exc:
        _error(exc.preflight.describe())
        return exc.preflight.exit_code
    except RunStoreError as exc:
        _error(f"cockpit train: {exc}")
        return 1
    if run is None:
        return EXIT_INVALID
    meta = load_run(run.id, run.path.parent)
    job, hosts = meta.extra.get("slurm_job"), [h for h, _ in host_logs(run.path)]
    how = f"started (pid {meta.pid})"
    if job:
        how = f"submitted to Slurm as job {job}"
    elif hosts:
        how = f"started on {', '.join(hosts)} (their supervisor: pid {meta.pid})"
    console.print(f"run {echo(run.id)} {how}; files in {echo(run.path)}")
    if detach:
        console.print(_detached_hint(run.id))
        return 0
    return _follow_to_end(run, console)


def _start(profile: str | None, force: bool, console: Console) -> RunDir | None:
    from cockpit.profiles.store import find_profile

    path = find_profile(profile) if profile else None
    if path is None:
        _error(
            f"cockpit train: no profile file or listed profile named {profile!r} "
            "(`cockpit profiles` lists them)"
        )
        return None
    check = preflight(path, force=force)
    for note in check.notes:  # a fallback the engine will take reads "warning: …"
        console.print(echo(note) if note.startswith("warning:") else f"note: {echo(note)}")
    return start_run(path, checked=check)


def _resume(run_id: str, force: bool, console: Console) -> RunDir:
    run = resume_run(run_id, force=force)
    console.print(f"resuming run {echo(run.id)} from its last checkpoint, with its frozen profile")
    return run


def _error(text: str) -> None:
    print(safe(redact(text)), file=sys.stderr, flush=True)


def _detached_hint(run_id: str) -> str:
    """Printed with Console.print: the id escaped for the terminal and for Rich markup."""
    shown = echo(run_id)
    return f"detached; the run goes on. `cockpit runs` lists it, `cockpit stop {shown}` stops it"


def _follow_to_end(run: RunDir, console: Console) -> int:
    watcher = RunWatcher(run.path)
    while True:
        try:
            summary = follow(watcher, console=console)
            break
        except KeyboardInterrupt:
            if not _ask_stop(console):
                console.print(_detached_hint(run.id))
                return 0
            try:
                summary = stop_run(
                    run.id, root=run.path.parent, on_step=lambda text: console.print(echo(text))
                )
            except KeyboardInterrupt:
                console.print(
                    f"still stopping in the background; `cockpit runs` shows {echo(run.id)}"
                )
                return 130
            break
    return report(summary, run, console)


STOP_QUESTION = "\nStop the run? [y: stop it / N: leave it running in the background] "
"""Asked at Ctrl-C: N (or enter) detaches, and says so before it is chosen."""


def _ask_stop(console: Console) -> bool:
    try:
        answer = console.input(escape(STOP_QUESTION))
    except (EOFError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("y", "yes")


def report(summary: RunSummary, run: RunDir, console: Console) -> int:
    """Print how the run ended (with the last output lines when it failed); the exit code."""
    steps = f"step {summary.step or 0}/{summary.total_steps or '?'}"
    loss = f", loss {summary.last_loss:.4f}" if summary.last_loss is not None else ""
    console.print(
        f"run {echo(run.id)} {summary.status}: {steps}{loss}, {format_duration(summary.duration_s)}"
    )
    if summary.reason:
        console.print(f"  {echo(summary.reason)}")
    if summary.status == "finished" and summary.adapter_path:
        console.print(f"  adapter: {echo(summary.adapter_path)}")
    code = EXIT_FOR_STATUS.get(summary.status, 1)
    if code == 1:
        lines = output_tail(run, _TAIL_LINES)
        if lines:
            console.print(f"last lines of {echo(run.output)}:")
            for line in lines:
                console.print(f"  {echo(line)}", soft_wrap=True)
    return code


# -- cockpit runs ---------------------------------------------------------------------

_COLUMNS = ("ID", "PROFILE", "ENGINE", "STATUS", "STEP", "LOSS", "STARTED", "DURATION")


def _row(s: RunSummary) -> tuple[str, ...]:
    step = f"{s.step if s.step is not None else '-'}/{s.total_steps or '?'}"
    started = iso_time(s.started or s.created)
    return (
        safe_line(s.id),
        safe_line(s.profile or "?"),
        safe_line(s.engine or "?"),
        s.status,
        step,
        f"{s.last_loss:.4f}" if s.last_loss is not None else "-",
        started.replace("T", " ")[:16] + "Z" if started else "-",
        format_duration(s.duration_s) if s.duration_s is not None else "-",
    )


def runs_main(as_json: bool, out: TextIO | None = None) -> int:
    """Print every run, newest first (a table, or a JSON list); always exit 0."""
    out = out or sys.stdout
    summaries = list_runs()
    if as_json:
        print(json.dumps([_redacted(s.to_json()) for s in summaries], indent=2), file=out)
        return 0
    if not summaries:
        print(safe(f"no runs in {runs_root()}; start one with `cockpit train PROFILE`"), file=out)
        return 0
    rows = [_COLUMNS, *(_row(s) for s in summaries)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    for row, summary in zip(rows, [None, *summaries], strict=True):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip(), file=out)
        if summary is not None and summary.reason and summary.status != "finished":
            print(f"  └ {safe(redact(summary.reason))}", file=out)
    return 0


def _redacted(value: Any) -> Any:
    """A run's JSON with every string redacted (reason, the engine's error), as shown."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


# -- cockpit stop ---------------------------------------------------------------------


def stop_main(run_id: str, out: TextIO | None = None) -> int:
    """Stop a run gracefully, escalating; exit 0 once it is no longer running, else 1."""
    out = out or sys.stdout
    try:
        before = load_run(run_id)
        if before.status == "unreadable":
            _error(
                safe(f"cockpit stop: cannot stop {before.id}: {redact(before.reason)}; its "
                     f"engine's pid is unknown (look for `engines run` in `ps x` and stop it)")
            )  # fmt: skip
            return 1
        if not before.active:
            print(f"run {safe(before.id)} is not running ({before.status})", file=out)
            return 0
        print(f"stopping run {safe(before.id)}…", file=out, flush=True)
        after = stop_run(
            run_id, on_step=lambda text: print(f"  {safe(redact(text))}", file=out, flush=True)
        )
    except RunStoreError as exc:
        _error(f"cockpit stop: {exc}")
        return 1
    reason = f": {redact(after.reason)}" if after.reason else ""
    print(safe(f"run {after.id} {after.status}{reason}"), file=out)
    return 1 if after.active else 0
