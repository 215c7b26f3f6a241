"""`cockpit doctor --python` reports the other environment's stack, not cockpit's own."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here starts processes (tests/unit/conftest.py)

COCKPIT = str(Path(sys.executable).parent / "cockpit")


def _doctor(*args: str) -> tuple[int, dict[str, dict]]:
    done = subprocess.run(
        [COCKPIT, "doctor", "--json", *args], capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, {f["id"]: f for f in json.loads(done.stdout)}


def _fake_dist(site: Path, name: str, version: str, requires: list[str]) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def other_venv(tmp_path_factory) -> Path:
    """A second venv with no torch, an old transformers and an unsloth that wants newer."""
    root = tmp_path_factory.mktemp("train-env")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    purelib = sysconfig.get_path("purelib", vars={"base": str(root), "platbase": str(root)})
    site = Path(purelib)
    _fake_dist(site, "transformers", "4.47.1", [])
    _fake_dist(site, "unsloth", "2026.1.4", ["transformers>=4.51.3"])
    return root / "bin" / "python"


def test_doctor_checks_the_given_interpreter(other_venv):
    code, findings = _doctor("--python", str(other_venv))
    assert code == 1
    assert str(other_venv.parent.parent) in findings["interpreter"]["detail"]
    torch = findings["torch"]
    assert torch["status"] in ("fail", "skip", "warn")
    assert "not installed" in torch["detail"]
    conflict = findings["requirements"]
    assert conflict["status"] == "fail"
    assert "transformers>=4.51.3" in conflict["detail"] and "4.47.1" in conflict["detail"]
    assert str(other_venv) in conflict["fix"]


def test_doctor_without_python_checks_its_own_stack():
    _, findings = _doctor()
    assert findings["torch"]["status"] == "ok"
    import torch  # the venv running the tests has the train extra

    assert torch.__version__.split("+")[0] in findings["torch"]["detail"]


def test_doctor_with_a_missing_interpreter_is_a_finding():
    code, findings = _doctor("--python", "/nonexistent/bin/python")
    assert code == 1
    assert any(
        f["status"] == "fail" and "/nonexistent/bin/python" in f["detail"]
        for f in findings.values()
    )
