"""`cockpit estimate` and `cockpit profiles` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here starts processes (tests/unit/conftest.py)

COCKPIT = str(Path(sys.executable).parent / "cockpit")
QLORA_3050 = "profiles/rtx3050-4gb-llama-3.2-3b-qlora.toml"


def _run(*args: str, env_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = None
    if env_dir is not None:
        import os

        env = os.environ | {"COCKPIT_CONFIG_DIR": str(env_dir)}
    return subprocess.run(
        [COCKPIT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_estimate_the_4gb_profile_on_a_4gb_card_as_json():
    done = _run("estimate", QLORA_3050, "--gpu-gib", "4", "--json")
    data = json.loads(done.stdout)
    assert done.returncode == {"fits": 0, "tight": 3, "won't fit": 4}[data["verdict"]]
    assert data["verdict"] != "won't fit"  # the seed ran exactly this on exactly this card
    assert data["gpu_gib"] == 4
    assert sum(data["breakdown"].values()) == pytest.approx(data["total_gib"], rel=0.02)
    for key in ("peak_allocated_gib", "peak_reserved_gib", "usable_gib", "fits", "model"):
        assert key in data
    if data["verdict"] != "fits":
        assert data["suggestions"] and all(s["total_gib"] > 0 for s in data["suggestions"])


def test_estimate_accepts_a_listed_name_and_refuses_an_unknown_one():
    assert _run("estimate", "tiny-demo-cpu", "--gpu-gib", "8").returncode == 0
    done = _run("estimate", "no-such-profile")
    assert done.returncode == 2 and "cockpit profiles" in done.stderr


def test_estimate_of_an_invalid_profile_names_the_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "bad"\n[model]\nname_or_path = "Qwen/Qwen2.5-0.5B"\n[train]\nbatch_size = -1\n'
    )
    done = _run("estimate", str(bad))
    assert done.returncode == 2
    assert "train.batch_size" in done.stderr and "Traceback" not in done.stderr


def test_every_shipped_profile_estimates_and_a_broken_user_profile_is_listed(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "broken.toml").write_text("name = [unclosed\n")
    done = _run("profiles", "--gpu-gib", "16", "--json", env_dir=tmp_path)
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert done.returncode == 2  # the broken one
    assert rows["broken"]["verdict"] == "invalid" and "line 1" in rows["broken"]["reason"]
    shipped = [r for r in rows.values() if r["origin"] == "shipped"]
    assert len(shipped) == 6
    assert all(r["verdict"] in ("fits", "tight", "won't fit") for r in shipped)
    assert rows["tiny-demo-cpu"]["verdict"] == "fits"


def test_a_user_profile_named_with_escapes_is_listed_invalid_and_printed_escaped(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "evil.toml").write_text(
        'name = "x\\u001b]52;c;cm0=\\u0007\\u009b2J"\n'
        '[model]\nname_or_path = "cockpit:tiny-llama"\n'
    )
    done = _run("profiles", "--gpu-gib", "16", env_dir=tmp_path)
    assert done.returncode == 2
    assert "only letters, digits, spaces and - _ ." in done.stdout
    assert not [c for c in ("\x1b", "\x07", "\x9b") if c in done.stdout]
    assert "\\x9b2J" in done.stdout
