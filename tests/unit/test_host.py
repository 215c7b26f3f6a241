"""The psutil side: host values, disk space where runs and models land, process owners."""

from __future__ import annotations

import os
import sys

import psutil
import pytest

from cockpit.hardware.host import (
    HostSampler,
    cockpit_run_id,
    default_disk_paths,
    describe_processes,
    hf_hub_cache,
    nearest_existing,
)


def test_a_real_sample_has_sane_values(tmp_path):
    host = HostSampler({"runs": str(tmp_path)}).sample()
    assert host.cpu_count >= 1
    assert len(host.per_cpu_pct) == host.cpu_count
    assert all(0.0 <= p <= 100.0 for p in (host.cpu_pct, *host.per_cpu_pct))
    assert 0 < host.ram_used_bytes <= host.ram_total_bytes
    assert 0 < host.ram_available_bytes <= host.ram_total_bytes
    assert 0 <= host.swap_used_bytes <= host.swap_total_bytes
    if host.load_avg is not None:
        assert len(host.load_avg) == 3 and min(host.load_avg) >= 0
    (disk,) = host.disks
    assert (disk.label, disk.path) == ("runs", str(tmp_path))
    assert disk.free_bytes is not None and disk.total_bytes is not None
    assert 0 < disk.free_bytes <= disk.total_bytes


def test_a_missing_disk_path_is_measured_at_its_nearest_existing_parent(tmp_path):
    missing = tmp_path / "cockpit" / "runs" / "not-yet"
    host = HostSampler({"HF cache": str(missing)}).sample()
    (disk,) = host.disks
    assert disk.path == str(tmp_path)
    assert disk.free_bytes is not None and disk.free_bytes > 0
    assert nearest_existing(str(tmp_path)) == str(tmp_path)


def test_default_disks_are_the_runs_dir_and_the_hf_cache():
    paths = default_disk_paths({"HF_HOME": "/data/hf"})
    assert list(paths) == ["runs", "HF cache"]
    assert paths["runs"].endswith(os.path.join("cockpit", "runs"))
    assert paths["HF cache"] == os.path.join("/data/hf", "hub")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HF_HUB_CACHE": "/fast/hub", "HF_HOME": "/data/hf"}, "/fast/hub"),
        ({"HUGGINGFACE_HUB_CACHE": "/old/hub"}, "/old/hub"),
        ({"HF_HOME": "/data/hf", "XDG_CACHE_HOME": "/xdg"}, os.path.join("/data/hf", "hub")),
        ({"XDG_CACHE_HOME": "/xdg"}, os.path.join("/xdg", "huggingface", "hub")),
        (
            {},
            os.path.join(os.path.expanduser("~"), ".cache", "huggingface", "hub"),
        ),
    ],
)
def test_hf_cache_follows_huggingface_hub_rules(env, expected):
    assert hf_hub_cache(env) == expected


def test_describe_processes_names_the_owner_and_command_line():
    me = os.getpid()
    gone = 2**31 - 1  # above any real pid limit
    info = describe_processes([me, gone])
    user, command = info[me]
    assert user == psutil.Process(me).username()
    assert command is not None and os.path.basename(sys.executable) in command
    assert info[gone] == (None, None)
    assert HostSampler({}).describe_processes([gone]) == {gone: (None, None)}


@pytest.mark.parametrize(
    ("command", "run_id"),
    [
        ("python -m engines run /home/me/.local/share/cockpit/runs/sft-0412", "sft-0412"),
        ("/venv/bin/python3 -u -m engines run runs/grpo-7/ --resume", "grpo-7"),
        ('python -m engines run "/home/me/my runs/demo run"', "demo run"),
        (r"C:\py\python.exe -m engines run C:\Users\me\runs\win-1", "win-1"),
        ("accelerate launch --num_processes 2 -m engines run /r/ddp-2", "ddp-2"),
        ("python -m engines trace profile.toml", None),
        ("python train.py --output_dir runs/x", None),
        ("python -m myengines run /r/x", None),
        ("", None),
        (None, None),
    ],
)
def test_cockpit_run_id_recognises_engine_processes(command, run_id):
    assert cockpit_run_id(command) == run_id
