"""Start, stop and resume runs: pre-flight, then the engine as a detached, reaped process.

Process tree of one run (see `cockpit.runs.reaper` for why the reaper exists):

    cockpit (TUI or CLI) ──spawns──▶ reaper (new session, records the exit in run.json)
                                        └──▶ engine: python -m engines run RUN_DIR [--resume]
                                             (or accelerate launch … -m engines run RUN_DIR)

The engine runs under the profile's `[env] python` (default: cockpit's interpreter) and
finds the `engines` package through PYTHONPATH, prepended with the folder that holds it.
In an installed cockpit that folder is a site-packages full of cockpit's own dependencies,
which must not shadow the training environment's, so a copy of just `engines` is staged in
the run dir instead. `COCKPIT_ENGINE_MODULE` (or `engine_module=`) swaps the engine
module, which is how the tests drive a fake engine.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cockpit
from cockpit.atomic import write_atomic
from cockpit.hardware.snapshot import GpuTraits
from cockpit.redact import redact, redact_args
from cockpit.remote.ssh import ssh_argv
from cockpit.runs import procs, slurm, ssh_launch
from cockpit.runs.engine_env import ENGINE_MODULE_ENV, engine_tail, engines_search_path
from cockpit.runs.preflight import Preflight, PreflightError, preflight
from cockpit.runs.runjson import RunMetaError, read_meta, update_meta
from cockpit.runs.status import RunSummary
from cockpit.runs.store import (
    RunDir,
    RunStoreError,
    create_run,
    find_run,
    fold_events,
    output_tail,
    pid_alive,
    summarize_dir,
)

GRACE_S = 60.0
"""How long `stop_run` waits for the engine to checkpoint and end after SIGINT."""
TERM_S = 10.0
"""How long it then waits after SIGTERM to the run's process group, before SIGKILL."""
_LAUNCH_FIELDS = (
    *("pid", "pgid", "reaper_pid", "launch_started", "ended", "exit_code", "signal"),
    *("slurm_job", "slurm_final", "ssh_hosts", "host_failed"),
)


class LaunchError(RunStoreError):
    """The engine process could not be started (or resumed); the message says why."""


def engine_command(
    python: str,
    run_dir: str | os.PathLike[str],
    *,
    processes: int = 1,
    resume: bool = False,
    module: str | None = None,
) -> list[str]:
    """The engine's command line; more than one process goes through `accelerate launch`."""
    module = module or os.environ.get(ENGINE_MODULE_ENV) or "engines"
    tail = engine_tail(run_dir, resume=resume, module=module)
    if processes <= 1:
        return [python, *tail]
    launcher = ["-m", "accelerate.commands.launch", "--num_processes", str(processes)]
    launcher += ["--num_machines", "1", "--multi_gpu", "--main_process_port", str(_free_port())]
    launcher += ["--mixed_precision", "no", "--dynamo_backend", "no"]  # its defaults, said aloud
    return [python, *launcher, *tail]


def _free_port() -> int:
    """A free TCP port, so two multi-process runs do not fight over accelerate's 29500."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command_text(command: Sequence[str]) -> str:
    """A command line to show and copy, secrets redacted."""
    joined = subprocess.list2cmdline(command) if os.name == "nt" else shlex.join(command)
    return redact(joined)


def _prepend_path(first: Path, existing: str | None) -> str:
    return os.pathsep.join([str(first), *([existing] if existing else [])])


# -- starting ---------------------------------------------------------------------------


def start_run(
    profile_path: str | os.PathLike[str],
    *,
    force: bool = False,
    resume_run_id: str | None = None,
    checked: Preflight | None = None,
    gpu_sizes_gib: Sequence[float] | None = None,
    gpus: Sequence[GpuTraits] | None = None,
    engine_module: str | None = None,
    root: Path | None = None,
) -> RunDir:
    """Pre-flight, create the run dir and spawn the engine; returns once its pid is known.

    Raises PreflightError (refused; nothing created), RunStoreError (the run dir could not be
    created) or LaunchError (the engine could not be spawned; the run is marked failed).
    `checked` reuses a pre-flight already shown to the user; `resume_run_id` resumes that
    run instead (its frozen profile is used, `profile_path` only names it).
    """
    if resume_run_id:
        return resume_run(
            resume_run_id,
            force=force,
            gpu_sizes_gib=gpu_sizes_gib,
            gpus=gpus,
            engine_module=engine_module,
            root=root,
        )
    check = checked or preflight(profile_path, force=force, gpu_sizes_gib=gpu_sizes_gib, gpus=gpus)
    if not check.ok:
        raise PreflightError(check)
    run = create_run(check.loaded or profile_path, root=root)  # what was checked, not a re-read
    _launch(run, check, resume=False, module=engine_module)
    return run


def resume_run(
    run_id: str,
    *,
    force: bool = False,
    gpu_sizes_gib: Sequence[float] | None = None,
    gpus: Sequence[GpuTraits] | None = None,
    engine_module: str | None = None,
    root: Path | None = None,
) -> RunDir:
    """Run the engine again in the same run dir with `--resume` (from its last checkpoint)."""
    run = find_run(run_id, root)
    summary = summarize_dir(run)
    if summary.active:
        raise LaunchError(f"run {run.id} is still {summary.status}; stop it first")
    if _still_exiting(run):
        raise LaunchError(f"run {run.id} is still exiting; try again in a moment")
    check = preflight(run.profile_file, force=force, gpu_sizes_gib=gpu_sizes_gib, gpus=gpus)
    if not check.ok:
        raise PreflightError(check)
    _archive_launch(run)
    _launch(run, check, resume=True, module=engine_module)
    return run


def _still_exiting(run: RunDir) -> bool:
    """True while a run's processes live on after its end event (saving, tearing down)."""
    try:
        return bool(pid_alive(read_meta(run.run_json), run.id))
    except RunMetaError:
        return False


def _archive_launch(run: RunDir) -> None:
    """Move the finished launch's pid/exit fields into `history` before a new launch."""
    try:
        meta = read_meta(run.run_json)
    except RunMetaError as exc:
        raise LaunchError(f"cannot resume {run.id}: {exc}") from exc
    previous = {k: meta.get(k) for k in _LAUNCH_FIELDS if meta.get(k) is not None}
    history = [*meta.get("history", []), previous] if previous else meta.get("history", [])
    update_meta(run.run_json, history=history)


def _launch(run: RunDir, check: Preflight, *, resume: bool, module: str | None) -> None:
    where = check.profile.launch.where if check.profile is not None else "local"
    if where == "slurm":
        _submit(run, check, resume=resume, module=module)
        return
    meta = _read_or_empty(run)
    try:
        if where == "ssh":
            hosts = ssh_commands(check, run.path, resume=resume, module=module)
            command = [sys.executable, "-m", "cockpit.runs.ssh_launch", str(run.path)]
            _record_launch(run, check, command, meta)
            shown = "\n".join(command_text(ssh_argv(host, argv)) for host, argv in hosts)
            update_meta(
                run.run_json,
                ssh_hosts=[{"host": h, "argv": redact_args(a)} for h, a in hosts],
                command_text=shown,
                launcher="ssh",
            )
        else:
            command = engine_command(
                check.python, run.path, processes=check.processes, resume=resume, module=module
            )
            _record_launch(run, check, command, meta)
        _spawn_reaper(run, command)
    except OSError as exc:  # a full disk, no file handles left, an unreadable run dir
        reason = exc.strerror or str(exc)
        with contextlib.suppress(OSError):
            update_meta(run.run_json, spawn_error=reason, ended=time.time())
        raise LaunchError(f"could not start the engine of {run.id}: {reason}") from exc


def slurm_script(
    check: Preflight,
    run_id: str,
    run_dir: Path,
    *,
    resume: bool = False,
    module: str | None = None,
    stage: bool = True,
) -> str:
    """The batch script a Slurm run is submitted with (`cockpit train --dry-run` shows it,
    `stage=False`: nothing copied into a run dir that does not exist yet)."""
    assert check.profile is not None
    return slurm.batch_script(
        check.profile.launch,
        run_id=run_id,
        run_dir=run_dir,
        python=check.python,
        engines_path=engines_search_path(run_dir, stage=stage),
        resume=resume,
        module=module or os.environ.get(ENGINE_MODULE_ENV) or "engines",
    )


def ssh_commands(
    check: Preflight,
    run_dir: Path,
    *,
    resume: bool = False,
    module: str | None = None,
    stage: bool = True,
) -> list[tuple[str, list[str]]]:
    """(host, remote command) of each host of an ssh run, rank 0 first."""
    assert check.profile is not None
    launch = check.profile.launch
    return ssh_launch.host_commands(
        launch,
        run_dir=run_dir,
        python=check.python,
        engines_path=engines_search_path(run_dir, stage=stage),
        main_address=ssh_launch.main_address(launch.hosts[0]),
        resume=resume,
        module=module or os.environ.get(ENGINE_MODULE_ENV) or "engines",
    )


def _submit(run: RunDir, check: Preflight, *, resume: bool, module: str | None) -> None:
    """Write the batch script into the run dir and `sbatch` it; the job id goes to run.json."""
    script = run.path / slurm.SCRIPT_FILE
    command = ["sbatch", "--parsable", str(script)]
    meta = _read_or_empty(run)
    try:
        text = slurm_script(check, run.id, run.path, resume=resume, module=module)
        write_atomic(script, text.encode("utf-8"))
        _record_launch(run, check, command, meta)
        update_meta(run.run_json, launcher="slurm", slurm_job=None, slurm_final=None)
        job_id = slurm.submit(script)
        update_meta(run.run_json, slurm_job=job_id, launch_started=time.time())
    except (OSError, slurm.SlurmError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        with contextlib.suppress(OSError):
            update_meta(run.run_json, spawn_error=reason, ended=time.time())
        raise LaunchError(f"could not submit {run.id} to Slurm: {reason}") from exc


def _record_launch(run: RunDir, check: Preflight, command: list[str], meta: dict) -> None:
    # The events already written: what this launch writes beyond them is its own (status).
    before = fold_events(run.events)
    update_meta(
        run.run_json,
        command=redact_args(command),
        command_text=command_text(command),
        python=redact(check.python),
        processes=check.processes,
        host=socket.gethostname(),
        cwd=redact(os.getcwd()),
        launches=int(meta.get("launches") or 0) + 1,
        starts_before=before.starts,
        ends_before=before.ends,
        **dict.fromkeys((*_LAUNCH_FIELDS, "stop_requested", "spawn_error")),
    )


def _read_or_empty(run: RunDir) -> dict:
    try:
        return read_meta(run.run_json)
    except RunMetaError:
        return {}


def _spawn_reaper(run: RunDir, command: list[str]) -> int:
    """Start the reaper, wait for its handshake, return the engine pid."""
    engine_path = _prepend_path(engines_search_path(run.path), os.environ.get("PYTHONPATH"))
    cockpit_parent = Path(cockpit.__file__).resolve().parent.parent
    env = os.environ | {
        "PYTHONPATH": _prepend_path(cockpit_parent, os.environ.get("PYTHONPATH")),
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",  # a gbk/cp1252 console must not break the engine's log
    }
    reaper = [sys.executable, "-m", "cockpit.runs.reaper", str(run.path)]
    reaper += ["--pythonpath", engine_path, "--", *command]
    with open(run.output, "ab") as log:
        proc = subprocess.Popen(
            reaper,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            **_detached(),
        )
    assert proc.stdout is not None
    with proc.stdout:
        line = proc.stdout.readline().decode("utf-8", errors="replace").strip()
    threading.Thread(target=proc.wait, name=f"reap-{run.id}", daemon=True).start()
    if line.startswith("pid "):
        return int(line.split()[1])
    reason = line.removeprefix("error ").strip() or _reaper_failure(run)
    update_meta(run.run_json, spawn_error=reason, ended=time.time())
    raise LaunchError(f"could not start the engine of {run.id}: {reason}")


def _reaper_failure(run: RunDir) -> str:
    last = output_tail(run, 1)
    return f"the supervisor process died at start ({last[0] if last else 'no output'})"


def _detached() -> dict:
    if os.name == "nt":  # pragma: no cover - Windows
        flags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW
        return {"creationflags": flags}
    return {"start_new_session": True}


# -- stopping ---------------------------------------------------------------------------

_Step = tuple[str, Callable[[], bool], float]


def stop_run(
    run_id: str,
    *,
    grace_s: float = GRACE_S,
    term_s: float = TERM_S,
    root: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> RunSummary:
    """Stop a run: SIGINT to the engine (it checkpoints and ends "stopped"), then SIGTERM
    to its process group after `grace_s`, then SIGKILL after `term_s`. Returns the final
    summary; a run that is not running is left alone."""
    run = find_run(run_id, root)
    try:
        meta = read_meta(run.run_json)
    except RunMetaError as exc:
        raise RunStoreError(f"cannot stop {run.id}: {exc}") from exc
    if meta.get("slurm_job"):
        return _stop_job(run, str(meta["slurm_job"]), grace_s, term_s, on_step)
    pid, pgid = meta.get("pid"), meta.get("pgid")
    if not procs.valid_pid(pid) or not pid_alive(meta, run.id):
        return summarize_dir(run)
    try:
        update_meta(run.run_json, stop_requested=time.time())
    except OSError as exc:
        reason = f"cannot write {run.run_json.name}: {exc.strerror or exc}"
        raise RunStoreError(f"cannot stop {run.id}: {reason}") from exc
    say = on_step or (lambda text: None)
    # This launch's processes, taken now: a resume may start new ones under the same run
    # directory while we wait, and those must be neither waited for nor signalled.
    launch = frozenset(procs.run_processes(run.path)) - {pid}
    steps = _stop_steps(pid, pgid if procs.valid_pid(pgid) else None, launch, grace_s, term_s)
    if _escalate(run, pid, launch, steps, say):
        _wait_until(lambda: _exit_recorded(run), 2.0)
    elif not _exit_recorded(run):  # SIGKILL took the reaper too: record the kill for it
        with contextlib.suppress(OSError):
            kill = procs.signal_name(procs.kill_signal())
            update_meta(run.run_json, signal=kill, ended=time.time())
    return summarize_dir(run)


def _escalate(
    run: RunDir, pid: int, launch: frozenset[int], steps: list[_Step], say: Callable[[str], None]
) -> bool:
    """Run the steps until the launch's processes are gone; True if they went before the last."""

    def gone() -> bool:
        alive = procs.process_alive(pid, run.id) or any(procs.process_alive(p) for p in launch)
        return not alive

    for text, act, timeout in steps[:-1]:
        act()
        say(text)
        if _wait_until(gone, timeout):
            return True
    text, act, timeout = steps[-1]
    act()
    say(text)
    _wait_until(gone, timeout)
    return False


def _stop_steps(
    pid: int, pgid: int | None, launch: frozenset[int], grace_s: float, term_s: float
) -> list[_Step]:
    """(what was done, how, how long to wait for the engine to go) for each escalation."""

    def to_all(sig: int) -> Callable[[], bool]:
        def send() -> bool:
            sent = procs.signal_group(pgid, sig) or procs.send_signal(pid, sig)
            for other in launch:  # ranks in sessions of their own, the reaper
                sent = procs.send_signal(other, sig) or sent
            return sent

        return send

    return [
        (
            f"asked the engine to stop (checkpoint, then end); waiting up to {grace_s:g} s",
            lambda: procs.send_signal(pid, procs.interrupt_signal()),
            grace_s,
        ),
        (
            f"sent SIGTERM to the run's processes; waiting up to {term_s:g} s",
            to_all(signal.SIGTERM),
            term_s,
        ),
        ("sent SIGKILL to the run's processes", to_all(procs.kill_signal()), 5.0),
    ]


def _stop_job(
    run: RunDir, job_id: str, grace_s: float, term_s: float, on_step: Callable[[str], None] | None
) -> RunSummary:
    """A Slurm run: SIGINT to its steps (the engine checkpoints and ends), then `scancel`.
    A job still queued is just cancelled."""
    say = on_step or (lambda text: None)
    job = slurm.job_state(job_id, fresh=True)
    if job is None or job.ended:
        return summarize_dir(run)
    update_meta(run.run_json, stop_requested=time.time())

    def ended() -> bool:
        state = slurm.job_state(job_id, fresh=True)
        return state is None or state.ended

    try:
        if not job.queued:
            slurm.cancel(job_id, "INT")
            say(f"asked job {job_id}'s engine to stop (checkpoint, then end); up to {grace_s:g} s")
            if _wait_until(ended, grace_s, poll_s=0.5):
                return summarize_dir(run)
        slurm.cancel(job_id)
        say(f"cancelled Slurm job {job_id} (scancel); waiting up to {term_s:g} s")
        _wait_until(ended, term_s, poll_s=0.5)
    except slurm.SlurmError as exc:
        raise RunStoreError(f"cannot stop {run.id}: {exc}") from exc
    return summarize_dir(run)


def _exit_recorded(run: RunDir) -> bool:
    try:
        meta = read_meta(run.run_json)
    except RunMetaError:
        return False
    return meta.get("exit_code") is not None or bool(meta.get("signal"))


def _wait_until(condition: Callable[[], bool], timeout: float, poll_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
    return True
