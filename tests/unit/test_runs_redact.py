"""Secrets never reach run.json or the screen through a command line."""

from __future__ import annotations

import pytest

from cockpit.runs.redact import redact_args, redact_text


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--token", "abc123"], ["--token", "***"]),
        (["--hub-token", "abc"], ["--hub-token", "***"]),
        (["--api-key=abc"], ["--api-key=***"]),
        (["WANDB_API_KEY=0123456789"], ["WANDB_API_KEY=***"]),
        (["HF_TOKEN=hf_abcdefghijkl"], ["HF_TOKEN=***"]),
        (["/home/me/hf_abcdefghijklmn/python"], ["/home/me/***/python"]),
        (["sk-proj-abcdefghijklmnop"], ["***"]),
    ],
)
def test_secret_values_are_replaced_and_their_names_kept(args, shown):
    assert redact_args(["python", *args]) == ["python", *shown]


def test_ordinary_arguments_are_left_alone():
    args = ["python", "-m", "engines", "run", "/runs/x", "--max-tokens", "5", "tokens=3"]
    assert redact_args(args) == args


def test_text_lines_are_redacted_too():
    text = "OPENAI_API_KEY=sk-123456789abc python train.py --token=xyz"
    assert redact_text(text) == "OPENAI_API_KEY=*** python train.py --token=***"
