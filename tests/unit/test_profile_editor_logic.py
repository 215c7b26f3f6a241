"""The pure parts of the profile editor: what typed text becomes, the stacked bar's cells,
and which card a profile is judged on."""

from __future__ import annotations

from cockpit.hardware.snapshot import GIB, GpuSnapshot, MachineSnapshot, NvmlStatus
from cockpit.profiles.fields import (
    ABSENT,
    FIELD_BY_KEY,
    FIELDS,
    from_text,
    get_value,
    set_value,
    to_text,
)
from cockpit.profiles.plan import NO_CARD, assess, card_for, detected_card, preset_card
from cockpit.tui.widgets.vram_bar import bar_line, scale_line
from engines.profile_schema import HardwareSection, ModelSection, Profile

BATCH = FIELD_BY_KEY["train.batch_size"]
LR = FIELD_BY_KEY["train.learning_rate"]
TARGETS = FIELD_BY_KEY["lora.target_modules"]
GPUS = FIELD_BY_KEY["hardware.gpus"]


def test_every_key_of_the_format_has_a_field_of_a_fitting_kind():
    tables = ["", "model", "lora", "data", "train", "grpo", "env", "hardware", "launch"]
    assert list(FIELDS) == tables
    kinds = {dotted: spec.kind for dotted, spec in FIELD_BY_KEY.items()}
    assert kinds["train.batch_size"] == "int"
    assert kinds["train.learning_rate"] == "float"
    assert kinds["train.packing"] == "flag"
    assert kinds["train.optimizer"] == "choice"
    assert kinds["lora.target_modules"] == "names"
    assert kinds["hardware.gpus"] == "gpus"
    assert FIELD_BY_KEY["model.quantization"].choices == ("none", "8bit", "4bit")
    assert FIELD_BY_KEY["launch.where"].choices == ("local", "ssh", "slurm")
    assert kinds["launch.hosts"] == kinds["launch.sbatch"] == "names"


def test_typed_numbers_become_numbers_and_anything_else_is_kept_as_typed():
    assert from_text(BATCH, "4") == 4
    assert from_text(LR, "2e-4") == 2e-4
    assert from_text(BATCH, " -1 ") == -1
    assert from_text(BATCH, "abc") == "abc"
    assert from_text(BATCH, "1.0") == 1.0  # the validator then says "write 1"
    assert from_text(BATCH, '"4"') == "4"  # a quoted number stays a string, as in TOML
    assert from_text(BATCH, "inf") == "inf"
    assert from_text(BATCH, "") is ABSENT  # empty: the key goes, its default applies


def test_shown_text_reads_back_as_the_same_value():
    for spec, value in [(BATCH, 4), (LR, 2e-4), (BATCH, "abc"), (BATCH, "4"), (GPUS, "auto")]:
        assert from_text(spec, to_text(spec, value)) == value
    assert to_text(BATCH, ABSENT) == ""
    assert to_text(TARGETS, ["q_proj", "v_proj"]) == "q_proj, v_proj"


def test_target_modules_take_all_linear_or_a_comma_list():
    assert from_text(TARGETS, "all-linear") == "all-linear"
    assert from_text(TARGETS, "q_proj, v_proj,") == ["q_proj", "v_proj"]
    assert from_text(TARGETS, '["q_proj", "k_proj"]') == ["q_proj", "k_proj"]


def test_set_value_creates_missing_tables_and_absent_removes_a_key():
    raw: dict = {"name": "x"}
    set_value(raw, "lora.r", 8)
    assert raw == {"name": "x", "lora": {"r": 8}}
    set_value(raw, "lora.r", ABSENT)
    assert get_value(raw, "lora.r") is ABSENT
    set_value(raw, "train.seed", ABSENT)  # removing from a missing table adds nothing
    assert "train" not in raw


def test_the_bar_overflows_past_the_usable_memory_with_a_hatched_part():
    bar = bar_line([("weights", 3.0, "#111111"), ("logits", 3.0, "#222222")], 4.0, 12)
    assert bar.plain == "█" * 8 + "▒" * 4
    free = bar_line([("weights", 1.0, "#111111")], 4.0, 12)
    assert free.plain == "█" * 3 + "░" * 9
    assert "usable 4.0 GiB" in scale_line(1.0, 4.0, 40).plain
    assert scale_line(6.0, 4.0, 30).cell_length == 20  # brackets the usable 2/3 only


def test_the_detected_card_is_the_largest_gpu():
    gpus = (
        GpuSnapshot(0, "small", memory_total_bytes=8 * GIB),
        GpuSnapshot(1, "big", memory_total_bytes=24 * GIB, simulated=True),
    )
    snapshot = MachineSnapshot(0.0, NvmlStatus(True), gpus, host=None)  # type: ignore[arg-type]
    card = detected_card(snapshot)
    assert card.gib == 24.0
    assert card.label == "big 24.0 GiB (simulated)"
    assert detected_card(None) is NO_CARD


def test_a_profiles_own_card_size_wins_and_an_unknown_model_is_a_message():
    mine = Profile(
        "p", ModelSection("acme/NoSuchModel"), hardware=HardwareSection(gpu_memory_gib=12.0)
    )
    assert card_for(mine, preset_card(4)).gib == 12.0
    plain = Profile("p", ModelSection("acme/NoSuchModel"))
    assert card_for(plain, preset_card(4)).gib == 4
    result = assess(plain, [], preset_card(4))
    assert result.verdict == "unknown model"
    assert "catalog" in result.message
