"""ssh command lines (non-interactive, quoted, config from COCKPIT_SSH_CONFIG) and what a
failed ssh or a missing remote cockpit is told to the user."""

from __future__ import annotations

import shlex

import pytest

from cockpit.remote.ssh import SSH_CONFIG_ENV, remote_cockpit, ssh_argv, ssh_failure


def test_the_command_line_never_asks_and_quotes_the_remote_command(monkeypatch):
    monkeypatch.delenv(SSH_CONFIG_ENV, raising=False)
    argv = ssh_argv("me@box", ["/opt/my env/python", "-m", "cockpit", "watch", "--stream"])
    assert argv[0] == "ssh" and "BatchMode=yes" in argv
    assert any(a.startswith("ConnectTimeout=") for a in argv)
    assert any(a.startswith("ServerAliveInterval=") for a in argv)
    assert "-F" not in argv and "-T" in argv
    assert argv[-3:-1] == ["--", "me@box"]  # nothing after `--` is read as an option
    assert shlex.split(argv[-1]) == ["/opt/my env/python", "-m", "cockpit", "watch", "--stream"]


def test_the_config_file_comes_from_the_environment_and_tty_is_asked_for(monkeypatch):
    monkeypatch.setenv(SSH_CONFIG_ENV, "/tmp/cfg")
    argv = ssh_argv("box", ["top"], tty=True)
    assert argv[argv.index("-F") + 1] == "/tmp/cfg" and "-tt" in argv


@pytest.mark.parametrize("target", ["", "-oProxyCommand=x", "a b"])
def test_a_target_ssh_would_take_for_an_option_is_refused(target):
    with pytest.raises(ValueError, match="not an ssh target"):
        ssh_argv(target, ["true"])


def test_the_remote_cockpit_is_the_hosts_python_or_the_path():
    assert remote_cockpit("") == ["cockpit"]
    assert remote_cockpit("/opt/py") == ["/opt/py", "-m", "cockpit"]


@pytest.mark.parametrize(
    ("stderr", "cause", "fix"),
    [
        ("ssh: Could not resolve hostname gpu: Name or service not known", "name is unknown",
         "~/.ssh/config"),
        ("ssh: connect to host 127.0.0.1 port 1: Connection refused", "connection refused",
         "start sshd"),
        ("ssh: connect to host 10.0.0.9 port 22: Connection timed out", "does not answer",
         "VPN"),
        ("me@gpu: Permission denied (publickey).", "no key it accepts", "ssh-copy-id gpu"),
        ("Host key verification failed.", "host key", "ssh gpu"),
        ("kex_exchange_identification: read: Connection reset by peer", "failed: kex_exch",
         "ssh gpu true"),
    ],
)  # fmt: skip
def test_each_ssh_failure_has_its_cause_and_fix(stderr, cause, fix):
    failure = ssh_failure("gpu", 255, stderr)
    assert failure is not None
    assert failure.cause.startswith("ssh gpu") and cause in failure.cause
    assert fix in failure.fix


def test_a_missing_cockpit_says_how_to_install_it_or_point_at_a_python():
    on_path = ssh_failure("gpu", 127, "bash: line 1: cockpit: command not found")
    assert on_path is not None
    assert on_path.cause == "cockpit is not installed for gpu (not on its PATH)"
    assert "pip install cockpit there" in on_path.fix and "[[hosts]]" in on_path.fix
    module = ssh_failure(
        "gpu", 1, "/usr/bin/python3: No module named cockpit", python="/usr/bin/python3"
    )
    assert module is not None and "for /usr/bin/python3 on gpu" in module.cause
    no_python = ssh_failure(
        "gpu", 127, "bash: /opt/py: No such file or directory", python="/opt/py"
    )
    assert no_python is not None and no_python.cause == "/opt/py is not found on gpu"


def test_an_old_remote_cockpit_and_other_exits_are_named():
    old = ssh_failure("gpu", 2, "cockpit: error: unrecognized arguments: --stream")
    assert old is not None and "older" in old.cause and "pip install -U" in old.fix
    other = ssh_failure("gpu", 3, "boom\n")
    assert other is not None and other.cause == "cockpit on gpu exited with 3: boom"
    assert ssh_failure("gpu", 0, "") is None
