"""A real OpenSSH server on 127.0.0.1 for the tests that reach other machines over ssh.

`sshd_hosts` (session-scoped) starts `sshd -D -e -f CONFIG` on a free port with temporary
host keys and a temporary user key, and writes an ssh_config with two hosts:

- `localgpu`: this machine through that sshd (as the current user, key login);
- `deadhost`: 127.0.0.1 on a port nothing listens on (ssh says "Connection refused").

cockpit's ssh command lines read that config through `COCKPIT_SSH_CONFIG` (`ssh -F`), so a
test sets `hosts.env` and names the aliases in its `[[hosts]]`. A session on `localgpu` is
a fresh login: the test's virtualenv is not on its PATH (name `sys.executable` as the host's
`python`), and only the variables of `hosts.remote_env` (COCKPIT_CONFIG_DIR and
COCKPIT_RUNS_DIR under the fixture's folder, set by sshd) reach it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from cockpit.remote.ssh import SSH_CONFIG_ENV, ssh_argv
from tests.system_tools import need_sshd

READY_S = 30.0
"""How long sshd may take to accept a login (a loaded 2-core machine is slow to fork)."""
LIVE = "localgpu"
LIVE_TOO = "localgpu2"
"""A second name for the same sshd: two "hosts" of a multi-host run."""
DEAD = "deadhost"


@dataclass
class SshHosts:
    """The running sshd and how to reach it."""

    config: Path
    """The ssh_config naming `localgpu` and `deadhost`."""
    folder: Path
    remote_env: dict[str, str]
    """What sshd sets in every session on `localgpu` (its cockpit folders)."""
    live: str = LIVE
    dead: str = DEAD

    @property
    def env(self) -> dict[str, str]:
        """`COCKPIT_SSH_CONFIG` for the processes that connect (merge into their env)."""
        return {SSH_CONFIG_ENV: str(self.config)}

    @property
    def remote_runs(self) -> Path:
        """The runs folder of cockpit on `localgpu`."""
        return Path(self.remote_env["COCKPIT_RUNS_DIR"])

    def run(self, argv: Sequence[str], host: str = LIVE, timeout: float = 30.0):
        """Run `argv` on `host` over ssh (as cockpit would); the CompletedProcess (text)."""
        return subprocess.run(
            ssh_argv(host, argv, config=str(self.config)),
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )


def _sshd_config(folder: Path, port: int, remote_env: dict[str, str]) -> Path:
    setenv = " ".join(f'"{key}={value}"' for key, value in remote_env.items())
    config = folder / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {folder / 'host_key'}\n"
        f"AuthorizedKeysFile {folder / 'user_key.pub'}\nPidFile {folder / 'sshd.pid'}\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nPrintMotd no\nUseDNS no\n"
        f"SetEnv {setenv}\n"
    )
    return config


def _ssh_config(folder: Path, port: int, dead_port: int) -> Path:
    common = (
        f"  User {os.environ.get('USER') or _user()}\n  IdentityFile {folder / 'user_key'}\n"
        "  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n"
        "  LogLevel ERROR\n"
    )
    config = folder / "ssh_config"
    config.write_text(
        f"Host {LIVE} {LIVE_TOO}\n  HostName 127.0.0.1\n  Port {port}\n{common}"
        f"Host {DEAD}\n  HostName 127.0.0.1\n  Port {dead_port}\n{common}"
    )
    return config


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _wait_ready(hosts: SshHosts, sshd: subprocess.Popen, log: Path) -> None:
    """Poll a login until it works; fail with sshd's log when it never does."""
    deadline = time.monotonic() + READY_S
    last = None
    while time.monotonic() < deadline:
        if sshd.poll() is not None:
            break
        last = hosts.run(["true"], timeout=READY_S)
        if last.returncode == 0:
            return
        time.sleep(0.1)  # between polls only: the condition is what ends the wait
    said = last.stderr if last is not None else ""
    pytest.fail(f"sshd never accepted a login: {said}\nsshd log:\n{log.read_text()}")


@pytest.fixture(scope="session")
def sshd_hosts() -> Iterator[SshHosts]:
    """A running sshd with `localgpu` (reachable) and `deadhost` (refused); see the module."""
    sshd = need_sshd()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    folder = Path(tempfile.mkdtemp(prefix="cockpit-sshd-"))
    remote_env = {
        "COCKPIT_CONFIG_DIR": str(folder / "remote-config"),
        "COCKPIT_RUNS_DIR": str(folder / "remote-runs"),
    }
    _keygen(folder / "host_key")
    _keygen(folder / "user_key")
    port, dead_port = _free_port(), _free_port()
    config = _sshd_config(folder, port, remote_env)
    log = folder / "sshd.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(config)], stdout=log_file, stderr=subprocess.STDOUT
        )
    hosts = SshHosts(_ssh_config(folder, port, dead_port), folder, remote_env)
    try:
        _wait_ready(hosts, process, log)
        yield hosts
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)
