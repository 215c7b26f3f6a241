"""How an engine process finds the `engines` package, and which engine module it runs.

Shared by the supervisor (training runs) and the data check (`python -m engines data`):
both start `engines` under the profile's training interpreter, which may be another
environment than cockpit's own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from engines import protocol

ENGINE_MODULE_ENV = "COCKPIT_ENGINE_MODULE"
"""Names a stand-in engine module (the tests' fake engine); unset: `engines`."""


def engines_search_path(run_dir: Path) -> Path:
    """The folder to put on the engine's PYTHONPATH so that `import engines` works."""
    package = Path(protocol.__file__).resolve().parent
    if package.parent.name not in ("site-packages", "dist-packages"):
        return package.parent
    staged = run_dir / ".engines"
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(package, staged / "engines", ignore=shutil.ignore_patterns("__pycache__"))
    return staged
