"""Secrets in logs, messages and command lines are hidden behind a hint; the rest is left alone."""

from __future__ import annotations

import pytest

from cockpit.redact import redact, redact_args

WANDB = "0123456789abcdef0123456789abcdef01234567"
HEX64 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

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
    (f"aws_secret_access_key = {AWS_SECRET}", "wJalrXUtnFEMI", "…(redacted)"),
    (f"AWS_SECRET_ACCESS_KEY='{AWS_SECRET}'", "wJalrXUtnFEMI", "KEY='…(redacted)'"),
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
    (f"signing key {HEX64}", HEX64, "…(redacted)"),
    ("OPENAI_API_KEY=sk-123456789abc python train.py", "sk-123456789abc", "OPENAI_API_KEY=…"),
    ("python train.py --token=xyz", "xyz", "--token=…(redacted)"),
    # URL credentials: the password goes, the user and host stay.
    (
        "git clone https://alice:hunter2@git.example.com/team/repo.git",
        "hunter2",
        "https://alice:…(redacted)@git.example.com/team/repo.git",
    ),
    ("db postgres://admin:p%40ss@db:5432/x", "p%40ss", "postgres://admin:…(redacted)@db:5432/x"),
    # A bare 40-hex (W&B) or 64-hex key beside a key-like name, in code and shell alike.
    (f"WANDB_API_KEY='{WANDB}'", WANDB, "WANDB_API_KEY='wandb…(redacted)'"),
    (f'os.environ["WANDB_API_KEY"] = "{WANDB}"', WANDB, '["WANDB_API_KEY"] = "wandb…(redacted)"'),
    (f"WANDB_KEY={WANDB}", WANDB, "WANDB_KEY=…(redacted)"),
    (f'export COMET_API_KEY="{HEX64}"', HEX64, 'COMET_API_KEY="…(redacted)"'),
    (f"HF_KEY={HEX64}", HEX64, "HF_KEY=…(redacted)"),
    (f"token = '{HEX64}'", HEX64, "token = '…(redacted)'"),
    (f"secret={HEX64}", HEX64, "secret=…(redacted)"),
    (f"my wandb api key is {WANDB}", WANDB, "api key is …(redacted)"),
    (f"wandb.login(key='{WANDB}')", WANDB, "key='…(redacted)'"),
    ("OPENAI_KEY=abcdefghij12345", "abcdefghij12345", "OPENAI_KEY=…(redacted)"),
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
        f"commit {WANDB}",
        f"$ git checkout {WANDB}",
        f"HEAD is now at {WANDB[:7]} fix",
        f"Downloading sha256:{HEX64}",
        f"blob digest {HEX64}",
        "pad_token = tokenizer.eos_token",
        "eos_token=tokenizer.eos_token, pad_token=<|endoftext|>, unk_token: [UNK]",
        "text_key=messages SORT_KEY=name",
        "see https://huggingface.co/docs and http://localhost:8000/?fontsize=16",
        "ssh://git@github.com/team/repo.git",
        "",
    ],
)
def test_ordinary_output_is_unchanged(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--token", "abc123"], ["--token", "…(redacted)"]),
        (["--hub-token", "hf_abcdefghijklmn"], ["--hub-token", "hf_…(redacted)"]),
        (["--api-key=abc"], ["--api-key=…(redacted)"]),
        (["--access-key", "XYZ123"], ["--access-key", "…(redacted)"]),
        (["--aws-secret-access-key", AWS_SECRET], ["--aws-secret-access-key", "…(redacted)"]),
        (["WANDB_API_KEY=0123456789"], ["WANDB_API_KEY=…(redacted)"]),
        (["HF_TOKEN=hf_abcdefghijkl"], ["HF_TOKEN=hf_…(redacted)"]),
        (["/home/me/hf_abcdefghijklmn/python"], ["/home/me/hf_…(redacted)/python"]),
        (["sk-proj-abcdefghijklmnop"], ["sk-…(redacted)"]),
        (["-H", "Authorization: Bearer abcdefgh1234"], ["-H", "Authorization: Bearer …(redacted)"]),
        (["Bearer", "abcdefgh1234"], ["Bearer", "…(redacted)"]),
        (["wandb", "login", WANDB], ["wandb", "login", "…(redacted)"]),
        (["wandb", "login", "--relogin", "k3y"], ["wandb", "login", "--relogin", "…(redacted)"]),
        (["https://bob:pa55@example.com"], ["https://bob:…(redacted)@example.com"]),
    ],
)
def test_secret_arguments_are_replaced_and_their_names_kept(args, shown):
    assert redact_args(["python", *args]) == ["python", *shown]


def test_ordinary_arguments_are_left_alone():
    args = ["python", "-m", "engines", "run", "/runs/x", "--max-tokens", "5", "tokens=3"]
    assert redact_args(args) == args
    assert redact_args(["git", "checkout", WANDB]) == ["git", "checkout", WANDB]
