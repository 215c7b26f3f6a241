"""A second virtualenv that holds only the training stack: no textual, no cockpit.

Built in a second, without a download: ``python -m venv --without-pip``, then the
installed distributions of torch, transformers, trl, peft, datasets, accelerate and
tokenizers — with their requirements, found through importlib.metadata — are linked
into its site-packages from this interpreter's. Whatever the engine imports must be in
that closure; textual and cockpit are not (a test checks both). A separate folder holds
only the `engines` package (a link), as cockpit's installation would provide it.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

from packaging.requirements import Requirement

TRAINING_STACK = ("torch", "transformers", "trl", "peft", "datasets", "accelerate", "tokenizers")
_ROOT = Path(__file__).resolve().parents[2]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def stack_distributions(roots: tuple[str, ...] = TRAINING_STACK) -> list[metadata.Distribution]:
    """The installed distributions of ``roots`` and everything they require (no extras)."""
    found: dict[str, metadata.Distribution] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if _normal(name) in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional or platform-specific requirement that is not installed
        found[_normal(name)] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return list(found.values())


def _top_level_entries(dist: metadata.Distribution) -> set[str]:
    entries = {f.parts[0] for f in dist.files or [] if f.parts}
    return {e for e in entries if e not in ("..", "__pycache__") and not e.endswith(".pth")}


def make_training_venv(root: Path) -> tuple[Path, Path]:
    """(python of a venv with only the training stack, a folder holding only `engines`)."""
    venv = root / "train-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    target = Path(out.stdout.strip())
    source = Path(sysconfig.get_paths()["purelib"])
    for dist in stack_distributions():
        for entry in _top_level_entries(dist):
            if (source / entry).exists() and not (target / entry).exists():
                (target / entry).symlink_to(source / entry)
    engines_home = root / "engines-home"
    engines_home.mkdir()
    (engines_home / "engines").symlink_to(_ROOT / "engines", target_is_directory=True)
    return python, engines_home
