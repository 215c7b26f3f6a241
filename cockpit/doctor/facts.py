"""The target environment as the doctor's checks see it: a frozen copy of the facts script's JSON.

The facts script (facts_script.py) runs under the interpreter being checked and prints
JSON; this module turns that JSON into typed, immutable values, tolerating missing keys
so an older or damaged facts payload still yields a usable (if sparser) ``Facts``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def normalize(name: str) -> str:
    """PEP 503 name normalisation: "Typing_Extensions" -> "typing-extensions"."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _frozen(value: Any) -> Mapping[str, Any]:
    return MappingProxyType(dict(value)) if isinstance(value, Mapping) else MappingProxyType({})


@dataclass(frozen=True)
class Distribution:
    """One installed distribution, read from its metadata without importing it."""

    name: str
    """Normalised name ("unsloth-zoo"); for a broken entry, its folder name."""
    version: str | None
    requires: tuple[str, ...] = ()
    """Raw Requires-Dist strings, markers and extras included."""
    broken: str | None = None
    """Why the metadata is unusable (missing METADATA, half-uninstalled), or None."""
    requires_python: str | None = None
    native: bool = False
    """Ships compiled extension modules."""
    top_level: tuple[str, ...] = ()
    path: str = ""

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Distribution:
        path = str(raw.get("path") or "")
        # A distribution without readable metadata is named after its folder: "foo-1.0.dist-info".
        folder = path.replace("\\", "/").rsplit("/", 1)[-1]
        name = raw.get("name") or folder.lstrip("~").split("-", 1)[0] or "?"
        return cls(
            name=normalize(str(name)),
            version=raw.get("version"),
            requires=tuple(raw.get("requires") or ()),
            broken=raw.get("broken"),
            requires_python=raw.get("requires_python"),
            native=bool(raw.get("native")),
            top_level=tuple(raw.get("top_level") or ()),
            path=path,
        )


@dataclass(frozen=True)
class Facts:
    """What the facts script observed about one interpreter and its environment."""

    executable: str
    version: str
    implementation: str = "CPython"
    prefix: str = ""
    base_prefix: str = ""
    is_conda: bool = False
    conda_prefix: str | None = None
    conda_env: str | None = None
    platform: str = "linux"
    os_release: str = ""
    os_version: str = ""
    machine: str = ""
    is_wsl: bool = False
    wsl_version: int | None = None
    wsl_distro: str | None = None
    in_container: bool = False
    libcuda: tuple[Mapping[str, str], ...] = ()
    distributions: tuple[Distribution, ...] = ()
    stray_entries: tuple[str, ...] = ()
    marker_env: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    include_dir: str = ""
    python_h: bool = False
    compilers: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    nvcc: str | None = None
    nvcc_version: str | None = None
    cuda_home: str | None = None
    path_tools: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: _frozen({}))
    stdout_encoding: str | None = None
    preferred_encoding: str | None = None
    utf8_mode: bool = False
    console_codepage: int | None = None
    env: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    """Selected variables (UNSLOTH_*, HF_*, CUDA_HOME…); anything secret is masked."""
    hf_home: str = ""
    hf_cache: str = ""
    hf_cache_exists: bool = False
    hf_cache_free_bytes: int | None = None
    hf_cache_total_bytes: int | None = None
    token: str | None = None
    """Masked Hugging Face token ("hf_A…yz"), never the token itself."""
    token_source: str | None = None
    ram_total_bytes: int | None = None
    ram_available_bytes: int | None = None
    shm_total_bytes: int | None = None
    shm_free_bytes: int | None = None
    errors: tuple[str, ...] = ()
    """Sections of the facts script that failed."""

    @property
    def in_venv(self) -> bool:
        return bool(self.base_prefix) and self.prefix != self.base_prefix

    @property
    def windows(self) -> bool:
        return self.platform == "win32"

    @property
    def version_tuple(self) -> tuple[int, ...]:
        parts = re.findall(r"\d+", self.version)[:3]
        return tuple(int(part) for part in parts)

    def dist(self, name: str) -> Distribution | None:
        """The first healthy installed distribution of that name (the one imports see)."""
        wanted = normalize(name)
        for dist in self.distributions:
            if dist.name == wanted and not dist.broken:
                return dist
        return None

    def has(self, *names: str) -> bool:
        """True when any of the named distributions is installed and readable."""
        return any(self.dist(name) is not None for name in names)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Facts:
        """Build from the facts script's JSON; unknown keys are ignored, missing ones default."""
        known = {name for name in cls.__dataclass_fields__}
        values = {key: value for key, value in raw.items() if key in known}
        values["executable"] = str(raw.get("executable") or "")
        values["version"] = str(raw.get("version") or "")
        values["distributions"] = tuple(
            Distribution.from_json(item) for item in raw.get("distributions") or ()
        )
        for key in ("stray_entries", "errors"):
            values[key] = tuple(raw.get(key) or ())
        values["libcuda"] = tuple(_frozen(item) for item in raw.get("libcuda") or ())
        for key in ("marker_env", "compilers", "env"):
            values[key] = _frozen(raw.get(key) or {})
        tools = raw.get("path_tools") or {}
        values["path_tools"] = _frozen({name: _frozen(entry) for name, entry in tools.items()})
        return cls(**values)
