"""Secrets in logs are hidden behind a hint, ordinary training output is left alone."""

from __future__ import annotations

import pytest

from cockpit.knowledge.redact import redact

WANDB = "0123456789abcdef0123456789abcdef01234567"

CASES = [
    ("HF_TOKEN is hf_AbCdEfGhIjKlMnOpQrStUvWx", "hf_AbCdEfGhIjKlMnOpQrStUvWx", "hf_…(redacted)"),
    (
        "openai key sk-proj-abcdefghijklmnopqrstuvwxyz123456",
        "abcdefghijklmnopqrstuvwxyz123456",
        "sk-…(redacted)",
    ),
    (f"export WANDB_API_KEY={WANDB}", WANDB, "WANDB_API_KEY=wandb…(redacted)"),
    (f"$ wandb login {WANDB}", WANDB, "wandb login wandb…(redacted)"),
    ("aws key AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EXAMPLE", "AKIA…(redacted)"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI",
        "…(redacted)",
    ),
    (
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        "eyJhbGciOiJIUzI1NiJ9",
        "Bearer …(redacted)",
    ),
    ("authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "…(redacted)"),
    (
        "python train.py --api-key s3cr3tvalue --lr 2e-4",
        "s3cr3tvalue",
        "--api-key …(redacted) --lr 2e-4",
    ),
    ("GET /v1?api_key=abcdef123456 HTTP/1.1", "abcdef123456", "api_key=…(redacted)"),
    ("db password=hunter2hunter2", "hunter2hunter2", "password=…(redacted)"),
    ("login token=abcd1234efgh", "abcd1234efgh", "token=…(redacted)"),
    (
        "client_secret: ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZWtleWZha2U=",
        "ZmFrZWtleWZha2Vr",
        "…(redacted)",
    ),
    (
        "signing key 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "9f86d081884c7d65",
        "…(redacted)",
    ),
]


@pytest.mark.parametrize(("text", "secret", "shown"), CASES)
def test_secret_is_replaced_by_a_hint(text: str, secret: str, shown: str) -> None:
    out = redact(text)
    assert secret not in out
    assert shown in out


@pytest.mark.parametrize(
    "text",
    [
        "{'loss': 1.2345, 'grad_norm': 0.88, 'learning_rate': 0.0002, 'epoch': 0.5}",
        "tokenizer_config.json: 100%|██████████| 7.30k/7.30k",
        "max_tokens=512 num_tokens=20480.0",
        "Saving model checkpoint to outputs/checkpoint-500",
        "commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
        "",
    ],
)
def test_ordinary_output_is_unchanged(text: str) -> None:
    assert redact(text) == text
