"""Pre-flight: bad profiles are refused before anything is spawned, naming the key and the fix."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import tomli_w
import tomllib

from cockpit.runs.preflight import EXIT_INVALID, EXIT_WONT_FIT, preflight
from cockpit.runs.stack_check import TrainingStack
from tests.runs_helpers import REPO, TINY

QLORA_3050 = REPO / "profiles" / "rtx3050-4gb-llama-3.2-3b-qlora.toml"


def _profile(tmp_path: Path, base: Path = TINY, **tables) -> Path:
    """A copy of `base` in tmp_path with some keys changed ({"data": {"path": ...}})."""
    raw = tomllib.loads(base.read_text())
    for table, values in tables.items():
        raw.setdefault(table, {}).update(values)
    path = tmp_path / "profile.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


def _keys(check) -> list[str]:
    return [r.key for r in check.refusals]


def test_the_demo_profile_passes_on_a_machine_without_gpu():
    check = preflight(TINY, gpu_sizes_gib=())
    assert check.ok and check.exit_code == 0
    assert check.verdict == "no GPU" and check.processes == 1
    assert check.python == sys.executable


def test_malformed_toml_is_refused_with_where_it_breaks(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[model\nname_or_path = "y"\n')
    check = preflight(bad, gpu_sizes_gib=())
    assert check.exit_code == EXIT_INVALID
    assert "line 2" in check.describe() and "fix:" in check.describe()


def test_invalid_keys_are_refused_with_the_key_and_a_suggestion(tmp_path):
    check = preflight(_profile(tmp_path, train={"batch_szie": 4}), gpu_sizes_gib=())
    assert check.exit_code == EXIT_INVALID and _keys(check) == ["train.batch_szie"]
    assert "batch_size" in check.refusals[0].fix


def test_a_missing_data_file_is_refused(tmp_path):
    check = preflight(_profile(tmp_path, data={"path": "data/nope.jsonl"}), gpu_sizes_gib=())
    assert _keys(check) == ["data.path"] and check.exit_code == EXIT_INVALID
    assert "nope.jsonl" in check.refusals[0].message
    assert "dataset id" in check.refusals[0].fix


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.jsonl", ""), ("blank.jsonl", "\n  \n"), ("head.csv", "text\n"), ("none.json", "[]")],
)
def test_an_empty_dataset_is_refused(tmp_path, name, content):
    (tmp_path / name).write_text(content)
    check = preflight(_profile(tmp_path, data={"path": name}), gpu_sizes_gib=())
    assert _keys(check) == ["data.path"] and "holds no examples" in check.refusals[0].message


def test_a_dataset_id_is_not_checked_but_noted(tmp_path):
    check = preflight(_profile(tmp_path, data={"path": "trl-lib/Capybara"}), gpu_sizes_gib=())
    assert check.ok and any("dataset id" in n for n in check.notes)


def test_a_missing_local_model_is_refused(tmp_path):
    path = _profile(tmp_path, model={"name_or_path": str(tmp_path / "models" / "mine")})
    check = preflight(path, gpu_sizes_gib=())
    assert _keys(check) == ["model.name_or_path"] and "no directory" in check.refusals[0].message
    assert "config.json" in check.refusals[0].fix


def test_a_model_folder_without_config_is_refused(tmp_path):
    (tmp_path / "model").mkdir()
    check = preflight(
        _profile(tmp_path, model={"name_or_path": str(tmp_path / "model")}), gpu_sizes_gib=()
    )
    assert _keys(check) == ["model.name_or_path"] and "no config.json" in check.refusals[0].message


def test_a_missing_training_interpreter_is_refused(tmp_path):
    check = preflight(_profile(tmp_path, env={"python": "/nowhere/bin/python"}), gpu_sizes_gib=())
    assert _keys(check) == ["env.python"] and "env.python" in check.describe()


def test_a_training_interpreter_is_used_when_it_exists(tmp_path):
    python = os.path.realpath(sys.executable)
    asked: list[str] = []  # its stack as the doctor's facts would say it (a subprocess)
    stack = lambda p: asked.append(p) or TrainingStack(p)  # noqa: E731
    check = preflight(
        _profile(tmp_path, env={"python": python}), gpu_sizes_gib=(), stack_probe=stack
    )
    assert check.ok and check.python == python and asked == [python]


def test_wont_fit_is_refused_with_suggestions_unless_forced():
    check = preflight(QLORA_3050, gpu_sizes_gib=[2.0])
    assert check.verdict == "won't fit" and check.exit_code == EXIT_WONT_FIT
    assert "won't fit" in check.refusals[0].message and "--force" in check.refusals[0].fix
    assert "→" in check.refusals[0].fix  # a concrete suggested change
    forced = preflight(QLORA_3050, gpu_sizes_gib=[2.0], force=True)
    assert forced.ok and any("--force" in n for n in forced.notes)


def test_without_a_gpu_vram_is_never_a_refusal():
    check = preflight(QLORA_3050, gpu_sizes_gib=())
    assert check.ok and check.verdict == "no GPU"


def test_wont_fit_plus_a_bad_path_exits_as_invalid(tmp_path):
    path = _profile(tmp_path, QLORA_3050, data={"path": "missing.jsonl"})
    check = preflight(path, gpu_sizes_gib=[2.0])
    assert set(_keys(check)) == {"data.path", ""} and check.exit_code == EXIT_INVALID


@pytest.mark.parametrize(
    ("gpus", "detected", "processes", "refused"),
    [(1, (24.0, 24.0), 1, False), (2, (), 2, False), ("auto", (24.0, 24.0), 2, False),
     ("auto", (), 1, False), (4, (24.0, 24.0), 4, True)],
)  # fmt: skip
def test_process_count_follows_hardware_gpus(tmp_path, gpus, detected, processes, refused):
    check = preflight(_profile(tmp_path, hardware={"gpus": gpus}), gpu_sizes_gib=detected)
    assert check.processes == processes
    assert ("hardware.gpus" in _keys(check)) is refused


# -- fatal GRPO combinations are refusals, said once (issue 10, defect 12) ----------------

GRPO = REPO / "profiles" / "tiny-grpo-cpu.toml"


def test_a_grpo_batch_that_splits_a_group_is_refused_with_one_clean_message(tmp_path):
    path = _profile(tmp_path, GRPO, train={"batch_size": 3}, grpo={"num_generations": 4})
    check = preflight(path, gpu_sizes_gib=())
    assert check.exit_code == EXIT_INVALID and _keys(check) == ["grpo.num_generations"]
    text = check.describe()
    assert "= 3 completions" in text and "batch_size = 4" in text
    assert "warning" not in text and text.count("num_generations = 4") == 1


@pytest.mark.parametrize(
    ("batch", "generations", "refused"), [(1, 2, False), (1, 4, True), (2, 4, False)]
)
def test_with_auto_gpus_the_grpo_batch_counts_every_process(tmp_path, batch, generations, refused):
    path = _profile(
        tmp_path, GRPO, train={"batch_size": batch}, grpo={"num_generations": generations},
        hardware={"gpus": "auto"},
    )  # fmt: skip
    check = preflight(path, gpu_sizes_gib=(24.0, 24.0))
    assert check.processes == 2 and ("grpo.num_generations" in _keys(check)) is refused
    if refused:
        assert "× 2 processes = 2 completions" in check.refusals[0].message


def test_a_warning_is_noted_once_without_the_word_doubled(tmp_path):
    check = preflight(_profile(tmp_path, grpo={"num_generations": 4}), gpu_sizes_gib=())
    assert check.ok
    (note,) = [n for n in check.notes if "[grpo]" in n]
    assert note.startswith("warning: [grpo]") and "warning: warning" not in check.describe()
