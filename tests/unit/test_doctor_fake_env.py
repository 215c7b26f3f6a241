"""`cockpit doctor --python` on a second venv holding a fake GPU stack, real processes all
the way: a torch whose cuda.is_available() aborts like WSL's libcuda double free, an
unsloth whose pins clash with the installed transformers, a compiled extension built
against NumPy 1.x, and a tool still importing pydantic v1's BaseSettings."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from cockpit.doctor.finding import Finding
from cockpit.doctor.runner import exit_code, run_doctor
from tests.unit.doctor_fixtures import gpu

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and venv layout")

FAKE_TORCH = """
import os, sys
__version__ = "2.7.1+cu128"
class version:
    cuda = "12.8"
    hip = None
class _C:
    @staticmethod
    def _cuda_getArchFlags():
        return "sm_80 sm_86 sm_90"
class cuda:
    @staticmethod
    def is_available():
        sys.stderr.write("free(): double free detected in tcache 2\\n")
        sys.stderr.flush()
        os.abort()
"""
FAKE_UNSLOTH = (
    'raise NotImplementedError("Unsloth cannot find any torch accelerator? You need a GPU.")\n'
)


OLD_EXT = 'raise ImportError("numpy.core.multiarray failed to import")\n'
OLD_TOOL = "from pydantic import Field, BaseSettings\n"


def _install(site: Path, name: str, version: str, code: str | None, *requires: str) -> None:
    meta = site / f"{name}-{version}.dist-info"
    meta.mkdir()
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {req}" for req in requires]
    (meta / "METADATA").write_text("\n".join(lines) + "\n")
    record = f"{name}/__init__.py,,\n{name}/_ext.cpython-311-x86_64-linux-gnu.so,,\n"
    (meta / "RECORD").write_text(record if code is not None else "")
    if code is not None:
        (site / name).mkdir()
        (site / name / "__init__.py").write_text(code)


@pytest.fixture(scope="module")
def fake_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("fake") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site = root / Path(sysconfig.get_path("purelib")).relative_to(sysconfig.get_path("data"))
    _install(site, "torch", "2.7.1+cu128", FAKE_TORCH)
    _install(site, "unsloth", "2026.10.9", FAKE_UNSLOTH, "transformers<=5.17.0", "torch<2.15")
    _install(site, "transformers", "5.23.0", None)
    _install(site, "numpy", "2.1.0", '__version__ = "2.1.0"\n')
    _install(site, "oldext", "1.0", OLD_EXT, "numpy>=1.20")
    _install(site, "pydantic", "2.11.0", 'VERSION = "2.11.0"\n')
    _install(site, "oldtool", "0.3", OLD_TOOL, "pydantic>=1.8")
    return str(root / "bin" / "python")


@pytest.fixture(scope="module")
def findings(fake_python: str) -> dict[str, Finding]:
    found = run_doctor(fake_python, gpus=(gpu(),), probe_timeout=15)
    assert exit_code(found) == 1 and found[0].status == "fail"
    return {f.id: f for f in found}


def test_torch_aborting_in_cuda_is_reported_as_the_double_free(findings):
    torch = findings["torch"]
    assert torch.status == "fail" and torch.catalog_id == "wsl_double_free"
    assert "SIGABRT (double free…) during torch.cuda.is_available()" in torch.detail
    assert "free(): double free detected in tcache 2" in torch.detail
    assert '"torch==2.7.1" --force-reinstall --index-url' in torch.fix


def test_unsloth_pins_clash_with_the_installed_transformers(findings, fake_python):
    clash = findings["requirements"]
    assert clash.status == "fail"
    assert "unsloth 2026.10.9 requires transformers<=5.17.0, but 5.23.0 is installed" in (
        clash.detail
    )
    assert f'{fake_python} -m pip install "transformers<=5.17.0"' in clash.fix
    assert findings["unsloth"].catalog_id == "unsloth_no_accelerator"


def test_extension_built_against_numpy1_is_found_by_importing_it(findings):
    numpy = findings["numpy_abi"]
    assert numpy.status == "fail" and "oldext" in numpy.detail


def test_tool_importing_v1_basesettings_is_found_by_scanning_its_source(findings):
    pydantic = findings["pydantic"]
    assert pydantic.status == "fail" and "oldtool" in pydantic.detail
