"""settings.toml `[[hosts]]`: the fleet's machines read, each bad entry named and dropped
alone, and written back as a person writes them."""

from __future__ import annotations

from cockpit.settings import Host, Settings, load_settings, save_settings


def test_hosts_read_in_order_with_ssh_defaulting_to_the_name(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text(
        '[[hosts]]\nname = "gpu-box"\n\n'
        '[[hosts]]\nname = "lab"\nssh = "me@lab.example"\npython = "/opt/venv/bin/python"\n'
        'simulate = "rtx3050-4gb"\n'
    )
    settings, problems = load_settings(path)
    assert problems == []
    box, lab = settings.hosts
    assert (box.name, box.target, box.python) == ("gpu-box", "gpu-box", "")
    assert lab == Host("lab", "me@lab.example", "/opt/venv/bin/python", "rtx3050-4gb")
    assert lab.target == "me@lab.example"


def test_hosts_round_trip_through_the_atomic_save(tmp_path):
    path = tmp_path / "settings.toml"
    hosts = (Host("gpu-box"), Host("lab", ssh="me@lab", python="/opt/py"))
    wanted = Settings(refresh_s=2.0, hosts=hosts)
    save_settings(wanted, path)
    assert load_settings(path) == (wanted, [])
    text = path.read_text()
    assert text.count("\n[[hosts]]\nname = ") == 2 and 'ssh = ""' not in text  # only what was given
    assert "[[hosts]] name, ssh, python, simulate" in text  # documented in the file


def test_each_bad_host_is_named_with_the_fix_and_dropped_alone(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text(
        '[[hosts]]\nname = "good"\n\n'
        '[[hosts]]\nssh = "me@nameless"\n\n'
        '[[hosts]]\nname = "good"\n\n'
        '[[hosts]]\nname = "opt"\nssh = "-oProxyCommand=touch /tmp/pwned"\n\n'
        '[[hosts]]\nname = "num"\npython = 3\n\n'
        '[[hosts]]\nname = "typo"\npyhton = "/usr/bin/python3"\n'
        "refresh_s = 2.0\n"
    )
    settings, problems = load_settings(path)
    assert [h.name for h in settings.hosts] == ["good", "typo"]  # a typo'd key costs the key
    text = "\n".join(problems)
    assert "entry 2: has no name" in text and 'name = "gpu-box"' in text
    assert "entry 3: a second host named 'good'" in text
    assert "entry 4: ssh target '-oProxyCommand" in text and "user@host" in text
    assert "entry 5: python must be a string" in text
    assert "entry 6: unknown key 'pyhton' ignored; known: name, ssh, python, simulate" in text
    assert all(str(path) in problem for problem in problems)


def test_hosts_that_is_not_an_array_of_tables_says_the_form(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('hosts = "gpu-box"\ntheme = "nord"\n')
    settings, problems = load_settings(path)
    assert settings == Settings(theme="nord")
    assert "hosts must be an array of tables: [[hosts]] then name =" in problems[0]
