"""A profile's `model.name_or_path` to the numbers of its model: where a spec comes from.

In order: the tiny demo model (`engines.protocol.TINY_LLAMA_CONFIG`), a local directory's
config.json, the built-in catalog (any usual spelling of a hub id). Anything else is
`UnknownModel` with what to do, and the closest catalog ids when there are some.
"""

from __future__ import annotations

import json
from pathlib import Path

from cockpit.vram.catalog import close_matches, lookup
from cockpit.vram.specs import ResolvedModel, UnknownModel, spec_from_config
from engines.protocol import TINY_LLAMA_CONFIG, TINY_LLAMA_ID


def _from_directory(path: Path) -> ResolvedModel:
    config_file = path / "config.json"
    if not config_file.is_file():
        raise UnknownModel(
            f"{path} is a directory but has no config.json; point model.name_or_path at the "
            "folder that holds the model's config.json (e.g. the one save_pretrained wrote)"
        )
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnknownModel(f"cannot read {config_file}: {exc}") from exc
    if not isinstance(config, dict):
        raise UnknownModel(f"{config_file} is not a JSON object")
    spec = spec_from_config(config, path.name, where=str(config_file))
    return ResolvedModel(spec, f"config.json at {config_file}")


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1


def resolve_model(name_or_path: str) -> ResolvedModel:
    """The spec for a profile's model.name_or_path, or ``UnknownModel`` saying what to do."""
    name = name_or_path.strip()
    if name == TINY_LLAMA_ID:
        spec = spec_from_config(dict(TINY_LLAMA_CONFIG), "tiny-llama (demo)")
        return ResolvedModel(spec, "engines.protocol.TINY_LLAMA_CONFIG")
    path = Path(name).expanduser()
    if name and path.is_dir():
        return _from_directory(path)
    found = lookup(name)
    if found is not None:
        return found
    if _looks_like_path(name):
        raise UnknownModel(f"no directory {name!r}: check the path in model.name_or_path")
    hint = close_matches(name)
    also = f" Close catalog matches: {', '.join(hint)}." if hint else ""
    raise UnknownModel(
        f"{name!r} is not in cockpit's model catalog. Download the model (or just its "
        f"config.json) and set model.name_or_path to that local directory.{also}"
    )
