"""settings.toml: defaults, every bad value reported with its fix, atomic round trip."""

from __future__ import annotations

import os

from cockpit.runs.store import RUNS_DIR_ENV
from cockpit.settings import Settings, apply_runs_dir, load_settings, save_settings


def test_no_file_means_defaults_and_no_complaint(tmp_path):
    assert load_settings(tmp_path / "settings.toml") == (Settings(), [])


def test_a_saved_file_reads_back_the_same(tmp_path):
    path = tmp_path / "deep" / "settings.toml"
    urls = ("ntfy://my-topic", "json://localhost/")
    wanted = Settings(refresh_s=2.5, runs_dir="~/runs", default_profile="mine", theme="nord",
                      start_place="logs", notify_urls=urls)  # fmt: skip
    save_settings(wanted, path)
    assert load_settings(path) == (wanted, [])
    assert path.read_text().startswith("# cockpit settings.")  # documented in place
    assert "[notify]" in path.read_text()  # as the README writes it


def test_notify_urls_read_from_their_table_and_bad_ones_say_the_form(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[notify]\nurls = ["ntfy://my-topic", "mailto://me:pw@example.com"]\n')
    assert load_settings(path)[0].notify_urls == ("ntfy://my-topic", "mailto://me:pw@example.com")
    for text, said in [
        ('[notify]\nurls = ["hf_abcdefghijklmnopqrstuvwxyz0123"]\n', "not an apprise URL"),
        ("[notify]\nurls = [3]\n", "urls must be a list of strings"),
        ('notify = "ntfy://x"\n', "must be a table"),
        ('[notify]\nurl = ["ntfy://x"]\n', "unknown key 'url'"),
    ]:
        path.write_text(text)
        settings, problems = load_settings(path)
        assert settings.notify_urls == () and said in problems[0], text
        assert "abcdefghijklmnopqrstuvwxyz" not in problems[0]  # a pasted token stays hidden


def test_each_bad_value_is_named_and_falls_back_alone(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text(
        'refresh_s = "fast"\nstart_place = "garage"\ntheme = 3\ncolour = "red"\n'
        'default_profile = "qlora"\n'
    )
    settings, problems = load_settings(path)
    assert settings == Settings(default_profile="qlora")  # the good value is kept
    text = "\n".join(problems)
    assert "refresh_s = 'fast': must be a number from 0.2 to 60.0" in text
    assert "start_place = 'garage': must be one of hardware, doctor" in text
    assert "theme = 3: must be a string" in text
    assert "unknown key 'colour' ignored" in text


def test_malformed_toml_or_binary_file_gives_defaults_and_says_how_to_fix(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("refresh_s = \n")
    settings, problems = load_settings(path)
    assert settings == Settings() and "not valid TOML" in problems[0] and "delete" in problems[0]
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert load_settings(path)[0] == Settings()


def test_runs_dir_applies_unless_the_environment_already_says(monkeypatch, tmp_path):
    monkeypatch.delenv(RUNS_DIR_ENV, raising=False)
    apply_runs_dir(Settings(runs_dir=str(tmp_path / "r")))
    assert os.environ[RUNS_DIR_ENV] == str(tmp_path / "r")
    monkeypatch.setenv(RUNS_DIR_ENV, "/from/env")
    apply_runs_dir(Settings(runs_dir=str(tmp_path / "other")))
    assert os.environ[RUNS_DIR_ENV] == "/from/env"


def test_a_runs_dir_that_is_a_file_is_reported_and_not_applied(tmp_path):
    blocker = tmp_path / "passwd"
    blocker.write_text("x")
    path = tmp_path / "settings.toml"
    for runs_dir in (blocker, blocker / "runs"):
        path.write_text(f'runs_dir = "{runs_dir}"\n')
        settings, problems = load_settings(path)
        assert settings.runs_dir == ""
        assert len(problems) == 1 and f"{blocker} is a file, not a folder" in problems[0]
