"""The README's set-up section as a reader copying it meets it: exactly two set-up commands
(the ones .ci/run takes), and on a machine without an NVIDIA GPU the CPU torch step said
before them, not after a reader has already pulled the CUDA build.
"""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
CPU_TORCH = "--index-url https://download.pytorch.org/whl/cpu"


def _setup_section() -> list[str]:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("## Set up")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    return lines[start:end]


def test_the_cpu_torch_step_comes_before_the_two_setup_commands():
    """Seen: the note came after both commands, so a reader copying them pulled ~3 GB of
    CUDA wheels first."""
    section = _setup_section()
    markers = [i for i, line in enumerate(section) if re.fullmatch(r"<!-- setup:\w+ -->", line)]
    assert [section[i] for i in markers] == ["<!-- setup:install -->", "<!-- setup:test -->"]
    assert all(section[i + 1] == "```bash" for i in markers)  # where .ci/run reads them
    text = "\n".join(section)
    note = text.index(CPU_TORCH.split()[-1])
    assert note < text.index("<!-- setup:install -->")
    assert text.count("download.pytorch.org/whl/cpu") == 1  # said once, where it is needed
    before = " ".join(text[: text.index("<!-- setup:install -->")].split())
    assert "python3 -m venv .venv && .venv/bin/pip install torch " + CPU_TORCH in before
    install = section[markers[0] + 2]
    assert install.startswith("python3 -m venv .venv && . .venv/bin/activate")  # same venv
