"""A wheel built from the repo works on its own: installed in a fresh venv, outside the repo.

One wheel is built from a copy of the source (so the build leaves nothing in the checkout)
and installed with its base dependencies (not the train extra, so no torch) into a venv
made without pip; the current interpreter's pip installs into it. Every command then runs
from a scratch folder with PYTHONPATH cleared, so the source tree cannot leak in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from cockpit import __version__

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SOURCES = (
    "pyproject.toml",
    "README.md",
    "MANIFEST.in",
    "LICENSE",
    "cockpit",
    "engines",
    "profiles",
)
SHIPPED_PROFILES = sorted(p.name for p in (REPO / "profiles").glob("*.toml"))
SHIPPED_DATA = sorted(p.name for p in (REPO / "profiles" / "data").glob("*.jsonl"))
OOM_LOG = (
    "step 10/30 loss 2.31\n"
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. "
    "GPU 0 has a total capacity of 3.81 GiB of which 1.10 GiB is free.\n"
)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin_dir: Path
    workdir: Path
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.bin_dir / ("python.exe" if os.name == "nt" else "python")

    @property
    def cockpit(self) -> str:
        return str(self.bin_dir / "cockpit")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _run([*args], cwd=self.workdir, env=self.env)


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=300
    )


def _check(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.pop("VIRTUAL_ENV", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _copy_sources(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.bak")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, dest / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    src, wheels, venv, work = (root / n for n in ("src", "wheels", "venv", "work"))
    for folder in (src, work):
        folder.mkdir()
    _copy_sources(src)
    env = _clean_env()
    pip = [sys.executable, "-m", "pip"]
    _check(
        _run(
            [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(src)],
            root,
            env,
        )
    )
    (wheel,) = wheels.glob("cockpit-*.whl")
    _check(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root, env))
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    result = Installed(wheel=wheel, bin_dir=bin_dir, workdir=work, env=env)
    _check(_run([*pip, "--python", str(result.python), "install", str(wheel)], root, env))
    env["COCKPIT_CONFIG_DIR"] = str(work / "config")  # no user profiles in the listing
    return result


def test_wheel_carries_catalogs_css_profiles_data_and_engines(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    expected = {
        "cockpit/knowledge/catalog.toml",
        "cockpit/vram/catalog.toml",
        "cockpit/tui/app.tcss",
        "engines/protocol.py",
        "engines/profile_schema.py",
        *(f"cockpit/shipped_profiles/{name}" for name in SHIPPED_PROFILES),
        *(f"cockpit/shipped_profiles/data/{name}" for name in SHIPPED_DATA),
    }
    assert "tiny-demo-cpu.toml" in SHIPPED_PROFILES
    assert expected - names == set()


def test_version_from_the_script_and_from_python_m(installed: Installed) -> None:
    for command in ([installed.cockpit], [str(installed.python), "-m", "cockpit"]):
        result = installed.run(*command, "--version")
        _check(result)
        assert result.stdout.strip() == f"cockpit {__version__}"


def test_doctor_json_is_a_list_of_findings(installed: Installed) -> None:
    result = installed.run(installed.cockpit, "doctor", "--json")
    assert result.returncode in (0, 1), result.stderr
    findings = json.loads(result.stdout)
    assert isinstance(findings, list) and findings
    assert all({"id", "status", "title"} <= set(f) for f in findings)


def test_explain_names_cuda_oom_from_the_installed_catalog(installed: Installed) -> None:
    log = installed.workdir / "oom.log"
    log.write_text(OOM_LOG, encoding="utf-8")
    result = installed.run(installed.cockpit, "explain", str(log))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cuda_oom" in result.stdout


def test_profiles_lists_the_shipped_ones_with_their_data(installed: Installed) -> None:
    result = installed.run(installed.cockpit, "profiles", "--json")
    _check(result)
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert sorted(f"{name}.toml" for name in rows) == SHIPPED_PROFILES
    path = Path(rows["tiny-demo-cpu"]["path"])
    assert rows["tiny-demo-cpu"]["origin"] == "shipped"
    assert REPO not in path.parents  # the installed copy, not the checkout
    assert path.parent.name == "shipped_profiles"
    data = tomllib.loads(path.read_text(encoding="utf-8"))["data"]["path"]
    assert data == "data/demo.jsonl"
    assert (path.parent / data).is_file()
