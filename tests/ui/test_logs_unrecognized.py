"""The Logs place on a PowerShell (UTF-16) log and on a failure no known cause explains."""

from __future__ import annotations

import codecs
from pathlib import Path

from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle

OOM = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
POWERSHELL = [
    "PS C:\\train> python train.py",
    "training starts: données chargées",
    "Traceback (most recent call last):",
    '  File "C:\\train\\train.py", line 80, in <module>',
    "    trainer.train()",
    OOM,
]
UNKNOWN = Path(__file__).parents[1] / "unit/knowledge_logs/unknown_datasets_split.log"


async def test_a_powershell_utf16_log_is_shown_readable_and_annotated(tmp_path: Path) -> None:
    path = tmp_path / "tee.log"
    text = "\r\n".join(POWERSHELL) + "\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "1 finding (1 error)" in shown, shown
        assert "PS C:\\train> python train.py" in shown
        assert "données chargées" in shown
        assert "binary" not in shown
        await pilot.press("right_square_bracket")
        await pilot.pause()
        shown = screen_text(app)
        assert "Line 6" in shown and "(cuda_oom)" in shown
        assert f"6 ● {OOM}" in shown


async def test_the_panel_says_what_failed_for_an_unrecognized_error() -> None:
    app = make_app(start_place="logs", log_target=str(UNKNOWN))
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        assert "1 finding (1 error)" in screen_text(app)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        shown = screen_text(app)
        assert "Line 16" in shown and "(unrecognized_error)" in shown, shown
        assert "Unrecognized error: ValueError in datasets" in shown
        assert "raised in: datasets (datasets/arrow_reader.py:245, in read)" in shown
        assert "your code: /home/me/proj/sft.py:31, in <module>" in shown
        assert "search for:" in shown
