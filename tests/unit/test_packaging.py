"""The packaging config ships every package, and the shipped profiles are found both ways.

pyproject.toml lists its packages (a mapped `cockpit.shipped_profiles` rules out
`packages.find`), so a new subpackage left off the list would be missing from the wheel:
an ImportError only wheel users see. The wheel itself is checked in tests/e2e/test_wheel.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cockpit import paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "setuptools"
]


def _source_packages() -> set[str]:
    """Every folder of Python modules under cockpit/ and engines/, as a dotted name."""
    found = set()
    for top in ("cockpit", "engines"):
        for module in (REPO / top).rglob("*.py"):
            if "__pycache__" not in module.parts:
                found.add(".".join(module.parent.relative_to(REPO).parts))
    return found


def test_every_source_package_is_listed_for_the_wheel() -> None:
    listed = set(SETUPTOOLS["packages"])
    assert _source_packages() - listed == set()


def test_the_profiles_folder_installs_inside_the_package() -> None:
    mapped = SETUPTOOLS["package-dir"]["cockpit.shipped_profiles"]
    assert (REPO / mapped / "tiny-demo-cpu.toml").is_file()
    data = SETUPTOOLS["package-data"]
    assert "*.toml" in data["cockpit.shipped_profiles"]
    assert "*.jsonl" in data["cockpit.shipped_profiles.data"]


def test_source_checkout_finds_the_repo_profiles() -> None:
    assert paths.shipped_profiles_dir() == REPO / "profiles"


@pytest.mark.parametrize("wheel_layout", [True, False])
def test_installed_copy_is_used_else_the_sibling_profiles_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wheel_layout: bool
) -> None:
    package = tmp_path / "site" / "cockpit"
    package.mkdir(parents=True)
    (tmp_path / "site" / "profiles").mkdir()
    if wheel_layout:
        (package / "shipped_profiles").mkdir()
    monkeypatch.setattr(paths, "__file__", str(package / "paths.py"))
    expected = package / "shipped_profiles" if wheel_layout else tmp_path / "site" / "profiles"
    assert paths.shipped_profiles_dir() == expected.resolve()
