"""ssh command lines, and what a failed ssh means: the one home for both.

Everything cockpit runs on another machine (the fleet's `cockpit watch --stream`,
`cockpit runs --all-hosts`, training engines on ssh hosts) goes through `ssh_argv`, so every
connection is non-interactive (`BatchMode=yes`: a missing key fails at once instead of
asking for a password nobody sees), gives up on an unreachable host after a few seconds and
notices a dead connection. `ssh_failure` turns the exit status and stderr of a failed ssh
into a short cause and the fix.

`COCKPIT_SSH_CONFIG`: an ssh_config file used instead of ~/.ssh/config (`ssh -F FILE`); the
tests point ssh at their own sshd with it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

SSH_CONFIG_ENV = "COCKPIT_SSH_CONFIG"
CONNECT_TIMEOUT_S = 8
ALIVE_INTERVAL_S = 10
ALIVE_COUNT = 3
"""A connection that answers no keep-alive for ALIVE_INTERVAL_S × ALIVE_COUNT is dropped."""
SSH_FAILED = 255
"""ssh's own exit status when it could not connect (the remote's status otherwise)."""
PIP_INSTALL = "pip install cockpit"
_INSTALL_SSH = "install OpenSSH's client (apt-get install openssh-client)"


def ssh_argv(
    target: str, remote_argv: Sequence[str], *, tty: bool = False, config: str | None = None
) -> list[str]:
    """`ssh … TARGET 'REMOTE COMMAND'`: the remote argv quoted for the remote shell.

    `tty` asks for a terminal on the remote side (an interactive program); without it the
    remote's stdin, stdout and stderr are pipes. `config`: an ssh_config file (default:
    $COCKPIT_SSH_CONFIG, else ssh's own). Raises ValueError for a target ssh would read as
    an option.
    """
    if not target or target.startswith("-") or any(c.isspace() for c in target):
        raise ValueError(f"{target!r} is not an ssh target (user@host, or a Host of ssh_config)")
    argv = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT_S}"]
    argv += ["-o", f"ServerAliveInterval={ALIVE_INTERVAL_S}"]
    argv += ["-o", f"ServerAliveCountMax={ALIVE_COUNT}"]
    config = os.environ.get(SSH_CONFIG_ENV) if config is None else config
    if config:
        argv += ["-F", config]
    argv += ["-tt" if tty else "-T", "--", target, shlex.join(remote_argv)]
    return argv


def remote_cockpit(python: str = "") -> list[str]:
    """How to start cockpit on a host: `PYTHON -m cockpit`, else `cockpit` from its PATH."""
    return [python, "-m", "cockpit"] if python else ["cockpit"]


@dataclass(frozen=True)
class SshFailure:
    """Why a command on a host did not run, and what to do about it."""

    cause: str
    fix: str

    def __str__(self) -> str:
        return f"{self.cause}; {self.fix}"


_SSH_CAUSES: tuple[tuple[str, str, str], ...] = (
    (
        "could not resolve hostname",
        "its name is unknown (DNS or ~/.ssh/config)",
        "check the name, or add a Host entry with its HostName to ~/.ssh/config",
    ),
    (
        "connection refused",
        "nothing accepts ssh there (connection refused)",
        "start sshd on it, or check the Port in ~/.ssh/config",
    ),
    (
        "timed out",
        "it does not answer (connection timed out)",
        "check that it is on and reachable (VPN, firewall), then `ssh {target}`",
    ),
    (
        "no route to host",
        "it cannot be reached (no route to host)",
        "check the network, VPN or address, then `ssh {target}`",
    ),
    (
        "permission denied",
        "ssh was refused: no key it accepts (password login is off here)",
        "run `ssh-copy-id {target}` once (or add your key to its authorized_keys)",
    ),
    (
        "host key verification failed",
        "its host key is unknown or changed",
        "run `ssh {target}` once in a terminal and check the key it shows",
    ),
)


def ssh_failure(
    target: str, returncode: int, stderr: str, *, name: str = "", python: str = ""
) -> SshFailure | None:
    """The cause and fix of a remote cockpit command that failed, None when it did not.

    `name` is the host as shown (default: `target`); `python` the interpreter the host entry
    names, if any (it decides what "not found" means).
    """
    if returncode == 0:
        return None
    name = name or target
    lowered = stderr.lower()
    if returncode == SSH_FAILED:
        for wording, cause, fix in _SSH_CAUSES:
            if wording in lowered:
                return SshFailure(f"ssh {name}: {cause}", fix.format(target=target))
        return SshFailure(
            f"ssh {name} failed: {_last_line(stderr) or 'no message'}",
            f"run `ssh {target} true` in a terminal to see why",
        )
    if "no module named cockpit" in lowered or (returncode == 127 and not python):
        return _not_installed(name, python)
    if returncode == 127 or (python and "no such file" in lowered):
        return SshFailure(
            f"{python} is not found on {name}",
            f"set `python` of this host in [[hosts]] to an interpreter there that has cockpit "
            f"({PIP_INSTALL} into it)",
        )
    if "--stream" in stderr and ("unrecognized" in lowered or "invalid" in lowered):
        return SshFailure(
            f"cockpit on {name} is older than this one (no `watch --stream`)",
            "upgrade it there: pip install -U cockpit (or set `python` in [[hosts]])",
        )
    return SshFailure(
        f"cockpit on {name} exited with {returncode}: {_last_line(stderr) or 'no message'}",
        f"run `ssh {target} {shlex.join(remote_cockpit(python))} watch --once` to see why",
    )


def _not_installed(name: str, python: str) -> SshFailure:
    where = f"{python} on {name}" if python else f"{name} (not on its PATH)"
    return SshFailure(
        f"cockpit is not installed for {where}",
        f"{PIP_INSTALL} there, or set `python` for this host in [[hosts]] to an interpreter "
        "that has it",
    )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


@dataclass(frozen=True)
class RemoteResult:
    """What a command run on a host printed, or why it did not run."""

    stdout: str
    failure: SshFailure | None


def run_remote(
    target: str, remote_argv: Sequence[str], *, timeout: float = 60.0, name: str = "",
    python: str = "",
) -> RemoteResult:  # fmt: skip
    """Run a command on a host and wait for it (stdin closed); never raises for its failure."""
    try:
        done = subprocess.run(
            ssh_argv(target, remote_argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except FileNotFoundError:
        return RemoteResult("", SshFailure("ssh is not installed here", _INSTALL_SSH))
    except subprocess.TimeoutExpired:
        cause = f"{name or target} did not answer within {timeout:.0f} s"
        return RemoteResult("", SshFailure(cause, f"run `ssh {target} true` to see why"))
    failure = ssh_failure(target, done.returncode, done.stderr, name=name, python=python)
    return RemoteResult(done.stdout, failure)
