"""System tools some tests drive (tmux, Chromium, sshd, Slurm): one rule for when they are missing.

In CI (the ``CI`` environment variable set, as `.ci/run` does) a missing tool fails the
test with the command that installs it, so a CI that tested nothing cannot look green.
On a developer's machine (``CI`` unset) the test is skipped with that same reason.
"""

from __future__ import annotations

import os
import shutil

import pytest

TMUX_INSTALL = "apt-get install -y tmux"
CHROMIUM_INSTALL = "apt-get install -y chromium"
SSHD_INSTALL = "apt-get install -y openssh-server openssh-client"
SLURM_INSTALL = "apt-get install -y slurm-wlm munge"


def in_ci() -> bool:
    """True when running under CI: ``CI`` set to anything but empty, 0 or false."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_tool(tool: str, install: str) -> None:
    """Fail (in CI) or skip (locally) the current test: `tool` is not installed."""
    message = f"{tool} is not installed; install it with: {install} (.ci/run does)"
    if in_ci():
        pytest.fail(f"{message} [CI is set, so this fails instead of skipping]", pytrace=False)
    pytest.skip(f"{message} [set CI=1 to make this a failure]")


def need_tmux() -> None:
    """Stop the current test unless tmux is on PATH (see the module docstring)."""
    if shutil.which("tmux") is None:
        missing_tool("tmux", TMUX_INSTALL)


def need_chromium() -> None:
    """Stop the current test unless a Chromium-family browser is found."""
    from tests.browser_shot import find_chromium

    if find_chromium() is None:
        missing_tool("Chromium", CHROMIUM_INSTALL)


def need_sshd() -> str:
    """The sshd binary's path; stops the current test when OpenSSH's server is missing."""
    sshd = shutil.which("sshd") or (
        "/usr/sbin/sshd" if os.access("/usr/sbin/sshd", os.X_OK) else None
    )
    if sshd is None or shutil.which("ssh") is None:
        missing_tool("OpenSSH (sshd and ssh)", SSHD_INSTALL)
    return sshd


def need_slurm() -> None:
    """Stop the current test unless Slurm's daemons, its commands and munge are installed."""
    wanted = ("slurmctld", "slurmd", "sbatch", "squeue", "sacct", "scancel", "munged")
    found = [
        tool for tool in wanted if shutil.which(tool) or os.access(f"/usr/sbin/{tool}", os.X_OK)
    ]
    if len(found) < len(wanted):
        missing_tool("Slurm (slurm-wlm) with munge", SLURM_INSTALL)
