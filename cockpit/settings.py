"""The user's settings: `<config dir>/settings.toml` (platformdirs, or $COCKPIT_CONFIG_DIR).

    refresh_s = 1.0                # hardware refresh, seconds (0.2 … 60)
    runs_dir = ""                  # where runs live; "" = <user data dir>/cockpit/runs
    default_profile = "tiny-demo-cpu"  # preselected to launch; `cockpit train` without a name
    theme = "textual-dark"         # any Textual theme (the Settings dialog lists them)
    start_place = "hardware"       # hardware, doctor, profiles, runs or logs

    [notify]
    urls = ["ntfy://my-topic"]     # apprise URLs told when a run ends (ntfy, Slack, e-mail…)

    [[hosts]]                      # other machines shown in the Hardware place's fleet view
    name = "gpu-box"               # shown; also the ssh target unless `ssh` is given
    ssh = "me@gpu-box.lan"         # optional: any ssh target, a Host of ~/.ssh/config too
    python = "/opt/venv/bin/python"  # optional: an interpreter there that has cockpit
    simulate = "rtx3050-4gb"       # optional: that host shows a simulated machine (demos)

Command-line options and environment variables (COCKPIT_RUNS_DIR) win over the file. A
bad value never stops cockpit: it is reported with what is allowed, and its default used.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from cockpit.atomic import write_atomic
from cockpit.paths import RUNS_DIR_ENV, config_dir, file_in_the_way
from cockpit.redact import redact

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SETTINGS_FILE = "settings.toml"
PLACES = ("hardware", "doctor", "profiles", "runs", "logs", "data")
REFRESH_RANGE = (0.2, 60.0)

_HEADER = """\
# cockpit settings. Edit here or in the app (ctrl+p → Settings). Every key is optional.
# refresh_s: hardware refresh in seconds (0.2-60). runs_dir: where runs live ("" = default).
# default_profile: preselected to launch. theme: a Textual theme. start_place: the first place.
# [notify] urls: apprise URLs told when a run ends, e.g. ["ntfy://my-topic"]
# (https://github.com/caronc/apprise/wiki lists every service and its URL form).
# [[hosts]] name, ssh, python, simulate: another machine in the Hardware place's fleet view.
"""


@dataclass(frozen=True)
class Host:
    """One `[[hosts]]` entry: another machine the fleet view watches over ssh."""

    name: str
    """Shown in the fleet view and `cockpit runs --all-hosts`."""
    ssh: str = ""
    """The ssh target (`user@host`, a Host of ~/.ssh/config); "" = `name`."""
    python: str = ""
    """An interpreter on that host that has cockpit; "" = `cockpit` from its PATH."""
    simulate: str = ""
    """A simulated machine shown for that host (`cockpit watch --simulate NAME`)."""

    @property
    def target(self) -> str:
        """What ssh connects to."""
        return self.ssh or self.name


HOSTS_KEY = "hosts"
_HOST_KEYS = tuple(f.name for f in fields(Host))


@dataclass(frozen=True)
class Settings:
    refresh_s: float = 1.0
    runs_dir: str = ""
    default_profile: str = "tiny-demo-cpu"
    theme: str = "textual-dark"
    start_place: str = "hardware"
    notify_urls: tuple[str, ...] = ()
    """`[notify] urls`: where the run's reaper says that a run ended (apprise URLs)."""
    hosts: tuple[Host, ...] = ()
    """`[[hosts]]`: the machines of the fleet view, in the file's order."""


NOTIFY_TABLE = "notify"
_FILE_KEYS = {"notify_urls": (NOTIFY_TABLE, "urls")}
"""Fields kept in a table of the file: field → (table, key)."""
_OWN_FORM = {*_FILE_KEYS, HOSTS_KEY}
"""Fields not written as `key = value` at the top of the file."""


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """The settings, and a message per problem (each names the fix). Never raises."""
    path = settings_path() if path is None else path
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        return Settings(), []
    except (OSError, UnicodeDecodeError) as exc:
        return Settings(), [f"{path}: cannot read it ({exc}); using the defaults."]
    except tomllib.TOMLDecodeError as exc:
        return Settings(), [
            f"{path}: not valid TOML ({exc}); using the defaults. Fix the file, or delete "
            "it and save from the Settings dialog."
        ]
    return _validated(raw, path)


def _validated(raw: dict[str, Any], path: Path) -> tuple[Settings, list[str]]:
    known = {f.name: f for f in fields(Settings) if f.name not in _OWN_FORM}
    values: dict[str, Any] = {}
    problems: list[str] = []
    raw = dict(raw)
    if NOTIFY_TABLE in raw:
        urls, problem = _notify_urls(raw.pop(NOTIFY_TABLE))
        if problem:
            problems.append(f"{path}: [notify] {problem}; no run-end notifications until fixed.")
        else:
            values["notify_urls"] = urls
    if HOSTS_KEY in raw:
        values["hosts"], host_problems = _hosts(raw.pop(HOSTS_KEY))
        problems += [f"{path}: {problem}" for problem in host_problems]
    for key, value in raw.items():
        if key not in known:
            keys = ", ".join([*known, f"[{NOTIFY_TABLE}]", f"[[{HOSTS_KEY}]]"])
            problems.append(f"{path}: unknown key {key!r} ignored; known: {keys}.")
            continue
        problem = _problem(key, value)
        if problem:
            problems.append(f"{path}: {key} = {value!r}: {problem}; using the default.")
        else:
            values[key] = float(value) if key == "refresh_s" else value
    return replace(Settings(), **values), problems


def _notify_urls(table: Any) -> tuple[tuple[str, ...], str | None]:
    """The `[notify]` table's URLs, or why they cannot be used."""
    if not isinstance(table, dict):
        return (), 'must be a table: [notify] then urls = ["ntfy://my-topic"]'
    unknown = sorted(set(table) - {"urls"})
    if unknown:
        return (), f"unknown key {unknown[0]!r}; the table has one key, urls"
    urls = table.get("urls", [])
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        return (), 'urls must be a list of strings, e.g. urls = ["ntfy://my-topic"]'
    bad = [url for url in urls if "://" not in url]
    if bad:
        shown = redact(bad[0])
        return (), f"{shown!r} is not an apprise URL (SERVICE://…, e.g. ntfy://my-topic)"
    return tuple(urls), None


_HOST_EXAMPLE = '[[hosts]] then name = "gpu-box" (ssh = "me@gpu-box", python = "…" optional)'


def _hosts(entries: Any) -> tuple[tuple[Host, ...], list[str]]:
    """The `[[hosts]]` entries that can be used, and why each other one was dropped."""
    if not isinstance(entries, list):
        return (), [f"hosts must be an array of tables: {_HOST_EXAMPLE}; no fleet until fixed."]
    hosts: list[Host] = []
    problems: list[str] = []
    for number, entry in enumerate(entries, 1):
        host, problem = _host(entry, {h.name for h in hosts})
        if problem:
            problems.append(f"[[hosts]] entry {number}: {problem}")
        if host is not None:
            hosts.append(host)
    return tuple(hosts), problems


def _host(entry: Any, taken: set[str]) -> tuple[Host | None, str | None]:
    """One `[[hosts]]` table as a Host (None: dropped), and what was wrong with it."""
    if not isinstance(entry, dict):
        return None, f"must be a table: {_HOST_EXAMPLE}; dropped."
    unknown = sorted(set(entry) - set(_HOST_KEYS))
    values = {key: entry[key] for key in _HOST_KEYS if key in entry}
    bad = [key for key, value in values.items() if not isinstance(value, str)]
    if bad:
        return None, f"{bad[0]} must be a string (in quotes); dropped."
    name = values.get("name", "").strip()
    if not name:
        return None, f"has no name; {_HOST_EXAMPLE}; dropped."
    if name in taken:
        return None, f"a second host named {name!r}; names must differ; dropped."
    target = values.get("ssh", "") or name
    if target.startswith("-") or any(c.isspace() for c in target):
        shown = redact(target)
        return None, f"ssh target {shown!r} must be user@host or a Host of ~/.ssh/config; dropped."
    host = Host(**{**values, "name": name})
    if unknown:
        return host, f"unknown key {unknown[0]!r} ignored; known: {', '.join(_HOST_KEYS)}."
    return host, None


def _problem(key: str, value: Any) -> str | None:
    if key == "refresh_s":
        low, high = REFRESH_RANGE
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok and low <= value <= high else f"must be a number from {low} to {high}"
    if not isinstance(value, str):
        return "must be a string (in quotes)"
    if key == "start_place" and value not in PLACES:
        return f"must be one of {', '.join(PLACES)}"
    if key == "runs_dir":
        return runs_dir_problem(value)
    return None


def runs_dir_problem(runs_dir: str) -> str | None:
    """Why `runs_dir` cannot be the runs folder (a file is in the way), or None."""
    folder = Path(runs_dir).expanduser()
    blocker = file_in_the_way(folder) if runs_dir else None
    if blocker is None:
        return None
    if blocker == folder:
        return f"{folder} is a file, not a folder; choose a folder (it is made if missing)"
    return f"{blocker} is a file, not a folder, so {folder} cannot be made; choose a folder"


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings atomically; raises OSError (nothing changed) when it cannot."""
    path = settings_path() if path is None else path
    data = {k: v for k, v in asdict(settings).items() if k not in _OWN_FORM}
    for name, (table, key) in _FILE_KEYS.items():
        if getattr(settings, name):
            data.setdefault(table, {})[key] = list(getattr(settings, name))
    # [[hosts]] tables with only the keys given, as a person writes them (tomli_w would
    # write short ones inline)
    hosts = "".join(
        f"\n[[{HOSTS_KEY}]]\n" + tomli_w.dumps({k: v for k, v in asdict(h).items() if v})
        for h in settings.hosts
    )
    write_atomic(path, (_HEADER + tomli_w.dumps(data) + hosts).encode("utf-8"))
    return path


def apply_runs_dir(settings: Settings) -> None:
    """Make the settings' runs folder the one every part of cockpit (and its engines) uses,
    unless COCKPIT_RUNS_DIR was set by the user."""
    if settings.runs_dir and not os.environ.get(RUNS_DIR_ENV):
        set_runs_dir(settings.runs_dir)


def set_runs_dir(runs_dir: str) -> None:
    """Point this process and the engines it starts at `runs_dir` ("" = the default)."""
    if runs_dir:
        os.environ[RUNS_DIR_ENV] = str(Path(runs_dir).expanduser())
    else:
        os.environ.pop(RUNS_DIR_ENV, None)
