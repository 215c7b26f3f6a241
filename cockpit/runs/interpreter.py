"""The profile's training interpreter: `[env] python`, else the one cockpit runs under.

Pre-flight, the data check and the supervisor all start engines under it.
"""

from __future__ import annotations

import os
import shutil
import sys

from cockpit.runs.refusal import Refusal
from engines.profile_schema import Profile


def training_interpreter(profile: Profile) -> tuple[str, list[Refusal]]:
    """The interpreter that trains `profile` (`[env] python`, else cockpit's own), or the
    refusal naming the missing one."""
    wanted = profile.env.python.strip()
    if not wanted:
        return sys.executable, []
    found = shutil.which(os.path.expanduser(wanted))
    if found:
        return found, []
    return wanted, [
        Refusal(
            "env.python",
            f"no interpreter {wanted}",
            "set env.python to the training environment's python (e.g. "
            "~/venvs/train/bin/python), or leave it empty to use cockpit's own",
            "env",
        )
    ]
