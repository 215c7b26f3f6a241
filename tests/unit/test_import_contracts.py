"""The layout's rules hold: import-linter checks the contracts in pyproject.toml.

Textual only in cockpit.tui, the core under both faces (cli, tui), engines free of cockpit,
cockpit reaching engines only through its two stdlib-only contract modules, no circle
between packages. `lint-imports` reads every import statement (in functions too), so a
lazy import breaks a contract as surely as one at the top of a file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]["contracts"]


def _contract(contract_id: str) -> dict:
    return next(c for c in CONTRACTS if c["id"] == contract_id)


def test_the_import_contracts_hold(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lint-imports`, run in this process (the unit tier starts no processes): its
    report, with the import that broke a contract, is the failure message."""
    try:
        from importlinter.cli import lint_imports
    except ImportError:
        pytest.fail(f"import-linter is missing: {sys.executable} -m pip install -e '.[dev]'")
    monkeypatch.chdir(REPO)
    code = lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True)
    assert code == 0, capsys.readouterr().out


def test_every_package_outside_the_tui_is_kept_off_textual() -> None:
    """A new package or module under cockpit/ is under the rule without editing it in."""
    covered = {
        m.removeprefix("cockpit.") for m in _contract("textual-only-in-tui")["source_modules"]
    }
    children = {
        p.stem if p.suffix == ".py" else p.name
        for p in (REPO / "cockpit").iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.name != "__init__.py"
    }
    assert children - covered == {"tui"}
