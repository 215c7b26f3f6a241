"""Where a run's model will come from, known before the start: a folder, the cache, the hub.

A hub id that is neither in the local Hugging Face cache nor reachable on the hub makes the
engine retry the hub for about a minute and then crash; a misspelt id does the same. Both are
said here, before anything is spawned, with the command that fixes them.

The cache is read from its documented layout
(https://huggingface.co/docs/huggingface_hub/guides/manage-cache:
``<cache>/models--ORG--NAME/refs/main`` and ``snapshots/<commit>/config.json``), honouring
HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME and XDG_CACHE_HOME as huggingface_hub does. It
is not asked through huggingface_hub: that package may be missing from cockpit's own
environment, reads those variables once at import, and costs ~0.1 s to import on the
Profiles place's UI thread; a few `stat` calls do.

The hub is asked only when the cache cannot answer: one HEAD to its model API, at most
``PROBE_TIMEOUT_S`` (a thread bounds DNS too), the answer kept ``PROBE_TTL_S``. Set
``COCKPIT_HUB_PROBE=0`` to never ask (the test suite does; so can an air-gapped machine, where
HF_HUB_OFFLINE=1 says more). Callers may inject their own probe.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cockpit.profiles.validate import Problem
from cockpit.runs.refusal import Refusal
from engines.profile_schema import TINY_DEMO_MODEL

HUB_PROBE_ENV = "COCKPIT_HUB_PROBE"
"""Set to 0 to never ask the hub whether a model exists (tests, air-gapped machines)."""
PROBE_TIMEOUT_S = 2.0
PROBE_TTL_S = 60.0
DEFAULT_ENDPOINT = "https://huggingface.co"
OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_TRUE = ("1", "ON", "YES", "TRUE")  # huggingface_hub's ENV_VARS_TRUE_VALUES
_WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
KEY = "model.name_or_path"
NOT_FOUND_CAUSE = "hub_repo_not_found"
OFFLINE_CAUSE = "hub_offline_no_cache"
FILES_CAUSE = "model_files_missing"


@dataclass(frozen=True)
class HubAnswer:
    """What the hub said about one model id."""

    reachable: bool
    exists: bool | None = None
    """True: the hub has it; False: no such public model (401/404); None: not said."""
    detail: str = ""
    """How it answered ("HTTP 404") or why it did not ("no answer within 2 s")."""


Probe = Callable[[str], HubAnswer]
"""Asks the hub about a model id."""


@dataclass(frozen=True)
class CacheState:
    """A hub id in the local cache: "complete", "partial" (config.json, no weights), "absent"."""

    state: str
    where: Path


# -- the environment ---------------------------------------------------------------------


def hub_cache_dir() -> Path:
    """The hub cache the engine will read, from the same variables huggingface_hub reads."""
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "huggingface",
    )
    legacy = os.environ.get("HUGGINGFACE_HUB_CACHE") or os.path.join(home, "hub")
    cache = os.environ.get("HF_HUB_CACHE") or legacy
    return Path(os.path.expandvars(os.path.expanduser(cache)))


def offline_reason() -> str | None:
    """'HF_HUB_OFFLINE=1 is set' when the engine will not ask the hub at all, else None."""
    for name in OFFLINE_VARS:
        value = os.environ.get(name, "")
        if value.upper() in _TRUE:
            return f"{name}={value} is set"
    return None


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def download_commands(name: str) -> str:
    """The commands that put a hub model into the cache."""
    return f"`hf download {name}` (older huggingface_hub: `huggingface-cli download {name}`)"


# -- the cache ---------------------------------------------------------------------------


def cache_state(name: str, cache: Path | None = None) -> CacheState:
    """Whether `name`'s config.json and weights are in the hub cache (refs/main first)."""
    repo = (cache or hub_cache_dir()) / f"models--{name.replace('/', '--')}"
    snapshots = repo / "snapshots"
    try:
        main = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        main = ""
    try:
        found = sorted(snapshots.glob("*/config.json"), key=lambda p: p.parent.name != main)
    except OSError:
        found = []
    for config in found:
        if _has_weights(config.parent):
            return CacheState("complete", config.parent)
    return CacheState("partial", found[0].parent) if found else CacheState("absent", repo)


def _has_weights(folder: Path) -> bool:
    """True when every shard an index names is there, or (no index) some weights file is."""
    for index in _INDEXES:
        path = folder / index
        if path.exists():
            try:
                shards = set(json.loads(path.read_text(encoding="utf-8"))["weight_map"].values())
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                return False
            return all((folder / shard).exists() for shard in shards)
    try:  # exists() follows the snapshot's links into blobs: a dangling one is not there
        return any(p.suffix in _WEIGHTS and p.exists() for p in folder.iterdir())
    except OSError:
        return False


# -- the hub -----------------------------------------------------------------------------

_answers: dict[tuple[str, str], tuple[float, HubAnswer]] = {}
_answers_lock = threading.Lock()


def hub_probe_enabled() -> bool:
    return os.environ.get(HUB_PROBE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def default_probe() -> Probe | None:
    """The hub probe pre-flight uses: None when COCKPIT_HUB_PROBE=0."""
    return ask_hub if hub_probe_enabled() else None


def ask_hub(name: str, timeout: float = PROBE_TIMEOUT_S) -> HubAnswer:
    """HEAD the hub's model API for `name` (answers kept PROBE_TTL_S); never raises."""
    key = (hub_endpoint(), name)
    with _answers_lock:
        kept = _answers.get(key)
    if kept is not None and time.monotonic() - kept[0] < PROBE_TTL_S:
        return kept[1]
    box: list[HubAnswer] = []
    asker = threading.Thread(
        target=lambda: box.append(_head(key[0], name, timeout)), name="hub-probe", daemon=True
    )
    asker.start()
    asker.join(timeout)  # the HTTP timeout does not bound the DNS lookup: this does
    silent = f"the hub ({key[0]}) gave no answer within {timeout:g} s"
    answer = box[0] if box else HubAnswer(False, None, silent)
    with _answers_lock:
        _answers[key] = (time.monotonic(), answer)
    return answer


def _head(endpoint: str, name: str, timeout: float) -> HubAnswer:
    import urllib.error  # here: urllib.request costs a place's first visit ~50 ms to import
    import urllib.request

    url = f"{endpoint}/api/models/{quote(name, safe='/')}"
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "cockpit"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HubAnswer(True, True, f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        return HubAnswer(True, False if exc.code in (401, 404) else None, f"HTTP {exc.code}")
    except urllib.error.URLError as exc:
        return HubAnswer(False, None, f"the hub ({endpoint}) is unreachable: {_why(exc.reason)}")
    except (OSError, ValueError) as exc:
        return HubAnswer(False, None, f"the hub ({endpoint}) is unreachable: {_why(exc)}")


def _why(reason: object) -> str:
    """'Name or service not known' rather than '[Errno -2] Name or service not known'."""
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    return str(reason)


# -- the verdict -------------------------------------------------------------------------


def check_model(name_or_path: str, probe: Probe | None) -> tuple[list[Refusal], list[str]]:
    """(refusals, notes) for a profile's model: a local folder with config.json, or a hub id
    in the catalog or the cache, present in the cache or on a reachable hub. `probe` None:
    the hub is not asked (a known id not cached passes; an unknown one is refused)."""
    name = name_or_path.strip()
    if name == TINY_DEMO_MODEL:
        return [], []
    path = Path(name).expanduser()
    if path.is_dir():
        return _folder_refusals(path), []
    if looks_like_path(name):
        return [Refusal(KEY, f"no directory {path}", _FOLDER_FIX, "model")], []
    return _hub_check(name, cache_state(name), probe)


_FOLDER_FIX = (
    "point model.name_or_path at the folder holding config.json (what save_pretrained "
    "wrote), or use a hub id such as 'Qwen/Qwen2.5-0.5B-Instruct'"
)


def _folder_refusals(path: Path) -> list[Refusal]:
    if (path / "config.json").is_file():
        return []
    return [Refusal(KEY, f"{path} has no config.json", _FOLDER_FIX, "model")]


def looks_like_path(name: str) -> bool:
    return (
        name.startswith((".", "/", "~"))
        or "\\" in name
        or name.count("/") > 1
        or Path(name).is_absolute()
    )


def _hub_check(
    name: str, cached: CacheState, probe: Probe | None
) -> tuple[list[Refusal], list[str]]:
    if cached.state == "complete":
        return [], []
    known = _in_catalog(name) or cached.state == "partial"
    offline = offline_reason()
    answer = probe(name) if probe is not None and offline is None else None
    if answer is not None and answer.exists:
        what = "only partly in" if cached.state == "partial" else "not in"
        return [], [f"{name} is {what} the local cache: the engine downloads it from the hub"]
    if answer is not None and answer.exists is False:
        return [_not_on_hub(name, answer)], []
    if not known:
        return [_unknown(name, offline or (answer.detail if answer else None))], []
    if offline is None and (answer is None or answer.reachable):
        return [], []  # not asked, or the hub answered without a verdict: the engine will try
    why = offline or (answer.detail if answer else "the hub could not be asked")
    return [_not_present(name, cached, why)], []


def _in_catalog(name: str) -> bool:
    from cockpit.vram.catalog import lookup

    return lookup(name) is not None


def _matches(name: str) -> str:
    from cockpit.vram.catalog import close_matches

    found = close_matches(name)
    return f"close matches: {', '.join(found)}" if found else ""


def _unknown(name: str, hub: str | None) -> Refusal:
    asked = f"; the hub could not be asked ({hub})" if hub else ""
    message = (
        f"unknown model {name!r}: not in cockpit's catalog, not a local folder, not in the "
        f"Hugging Face cache ({hub_cache_dir()}){asked}"
    )
    fix = "; ".join(
        filter(
            None, [_matches(name), f"if the name is right, download it: {download_commands(name)}"]
        )
    )
    return Refusal(KEY, message, fix, "model", NOT_FOUND_CAUSE)


def _not_on_hub(name: str, answer: HubAnswer) -> Refusal:
    message = f"the hub has no public model {name!r} ({answer.detail})"
    fix = "; ".join(
        filter(None, [_matches(name), "a private or gated model needs `hf auth login` first"])
    )
    return Refusal(KEY, message, fix, "model", NOT_FOUND_CAUSE)


def _not_present(name: str, cached: CacheState, why: str) -> Refusal:
    if cached.state == "partial":
        what = f"{name} is only partly in the cache ({cached.where}: config.json, no weights)"
    else:
        what = f"{name} is not in the Hugging Face cache ({hub_cache_dir()})"
    fails = "fail at once" if offline_reason() else "retry the hub for about a minute, then fail"
    message = f"{what}, and {why}: the engine would {fails}"
    fix = (
        f"download it where the hub is reachable: {download_commands(name)}, into this cache "
        "(or set HF_HUB_CACHE / HF_HOME to the cache that has it), or point "
        "model.name_or_path at a local folder with config.json and the weights"
    )
    cause = FILES_CAUSE if cached.state == "partial" else OFFLINE_CAUSE
    return Refusal(KEY, message, fix, "model", cause)


def model_problems(name_or_path: str) -> list[Problem]:
    """The model's findings as the Profiles form flags them, live: local facts only (folder,
    cache, catalog, offline variables); the hub is never asked on the UI thread."""
    refusals, _notes = check_model(name_or_path, None)
    return [
        Problem(KEY, name_or_path, r.message, r.fix, "error", catalog_id=r.catalog_id)
        for r in refusals
    ]
