"""`cockpit estimate`'s function: output, the card it plans for, and exit codes."""

from __future__ import annotations

import io
import json

import pytest
import tomli_w

from cockpit.cli import estimate as cli
from cockpit.vram import trace_client
from cockpit.vram.trace_client import TraceFailed, TraceResult

SEED = {
    "name": "seed",
    "model": {
        "name_or_path": "unsloth/Llama-3.2-3B-Instruct-bnb-4bit",
        "quantization": "4bit",
        "max_seq_length": 2048,
    },
    "lora": {"r": 16, "alpha": 16},
    "train": {
        "batch_size": 1,
        "grad_accum": 4,
        "gradient_checkpointing": "unsloth",
        "optimizer": "adamw_8bit",
    },
}


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(cli, "detected_gpu_gib", lambda: None)


def _file(tmp_path, raw: dict, name: str = "p.toml") -> str:
    path = tmp_path / name
    path.write_text(tomli_w.dumps(raw))
    return str(path)


def _run(path: str, gpu: float | None, trace: bool = False, as_json: bool = True):
    out = io.StringIO()
    code = cli.estimate_main(path, gpu, trace, as_json, out=out)
    return code, out.getvalue()


@pytest.mark.parametrize(
    ("card", "code", "verdict"), [(24.0, 0, "fits"), (4.0, 3, "tight"), (2.0, 4, "won't fit")]
)
def test_exit_code_follows_the_verdict(tmp_path, no_gpu, card, code, verdict) -> None:
    got, text = _run(_file(tmp_path, SEED), card)
    data = json.loads(text)
    assert (got, data["verdict"], data["gpu_gib"]) == (code, verdict, card)


def test_text_output_shows_the_table_totals_verdict_and_suggestions(tmp_path, no_gpu) -> None:
    code, text = _run(_file(tmp_path, SEED), 4.0, as_json=False)
    assert code == 3
    assert "weights: decoder linear layers (4-bit NF4" in text
    assert "total (as nvidia-smi shows it)" in text
    assert "verdict: tight" in text and "suggestions (smallest change first):" in text
    rows = [line for line in text.splitlines() if line.endswith(" GiB") and line.startswith("  ")]
    assert len({line.rindex("GiB") for line in rows}) == 1  # one aligned column


def test_the_profile_card_is_used_when_no_size_is_given(tmp_path, no_gpu) -> None:
    raw = SEED | {"hardware": {"gpu_memory_gib": 6.0, "reserve_gib": 1.0}}
    data = json.loads(_run(_file(tmp_path, raw), None)[1])
    assert (data["gpu_gib"], data["usable_gib"]) == (6.0, 5.0)


def test_the_detected_gpu_is_used_last(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(cli, "detected_gpu_gib", lambda: 11.5)
    assert json.loads(_run(_file(tmp_path, SEED), None)[1])["gpu_gib"] == 11.5


def test_without_any_gpu_the_verdict_is_no_gpu_and_suggests_gpu_gib(tmp_path, no_gpu) -> None:
    code, text = _run(_file(tmp_path, SEED), None, as_json=False)
    assert code == 0 and "--gpu-gib" in text


def test_an_invalid_profile_exits_2_with_its_problems(tmp_path, capsys) -> None:
    bad = SEED | {"train": {"batch_size": 0}}
    assert _run(_file(tmp_path, bad), 8.0)[0] == 2
    assert "train.batch_size" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    assert _run(str(broken), 8.0)[0] == 2


def test_an_unknown_model_exits_2_and_asks_for_a_local_config(tmp_path, capsys) -> None:
    raw = SEED | {"model": {"name_or_path": "acme/Mystery-9B"}}
    assert _run(_file(tmp_path, raw), 8.0)[0] == 2
    assert "config.json" in capsys.readouterr().err


def test_trace_numbers_are_added_and_a_failed_trace_is_reported(
    tmp_path, no_gpu, monkeypatch
) -> None:
    traced = {
        "params": 10,
        "trainable_params": 2,
        "activations_off_bytes": 3,
        "activations_on_bytes": 1,
        "layer_max_bytes": 1,
        "gradient_bytes": 4,
        "optimizer_bytes": 8,
        "seconds": 0.5,
    }
    monkeypatch.setattr(
        trace_client, "trace_estimate", lambda path, python=None: TraceResult.from_json(traced)
    )
    data = json.loads(_run(_file(tmp_path, SEED), 8.0, trace=True)[1])
    assert data["trace"]["trainable_params"] == 2

    def fail(path, python=None):
        raise TraceFailed("the trace failed (SIGSEGV)")

    monkeypatch.setattr(trace_client, "trace_estimate", fail)
    code, text = _run(_file(tmp_path, SEED), 8.0, trace=True, as_json=False)
    assert code == 0 and "trace: failed: the trace failed (SIGSEGV)" in text


RAW_CONTROLS = ("\x1b", "\x07", "\x9b")


def test_a_profile_name_holding_escapes_is_refused_and_printed_escaped(tmp_path, capsys) -> None:
    raw = SEED | {"name": "evil\x1b[2J\x1b]52;c;cm0=\x07\x9b31m"}
    assert _run(_file(tmp_path, raw), 8.0, as_json=False) == (2, "")
    err = capsys.readouterr().err
    assert "only letters, digits, spaces and - _ ." in err
    assert not [c for c in RAW_CONTROLS if c in err] and "\\x9b31m" in err
