"""A missing tmux or Chromium: a failure naming the install command in CI, a skip locally."""

from __future__ import annotations

import pytest

from tests import system_tools


def _stop(monkeypatch: pytest.MonkeyPatch, ci: str | None) -> BaseException:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(BaseException) as stopped:
        system_tools.missing_tool("Chromium", system_tools.CHROMIUM_INSTALL)
    return stopped.value


@pytest.mark.parametrize("ci", ["1", "true"])
def test_in_ci_a_missing_tool_fails_with_its_install_command(monkeypatch, ci):
    stopped = _stop(monkeypatch, ci)
    assert isinstance(stopped, pytest.fail.Exception)
    assert "Chromium is not installed" in str(stopped)
    assert "apt-get install -y chromium" in str(stopped)


@pytest.mark.parametrize("ci", [None, "", "0", "false"])
def test_locally_a_missing_tool_is_skipped_with_the_reason(monkeypatch, ci):
    stopped = _stop(monkeypatch, ci)
    assert isinstance(stopped, pytest.skip.Exception)
    assert "apt-get install -y chromium" in str(stopped)


def test_tmux_on_path_lets_the_test_run_and_off_path_stops_it(monkeypatch, tmp_path):
    monkeypatch.setenv("CI", "1")
    (tmp_path / "tmux").write_text("#!/bin/sh\n")
    (tmp_path / "tmux").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    system_tools.need_tmux()  # found: nothing happens
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y tmux"):
        system_tools.need_tmux()
