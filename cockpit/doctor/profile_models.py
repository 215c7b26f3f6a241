"""The models named in the user's profiles, sized for the doctor's resources check."""

from __future__ import annotations

from cockpit.doctor.context import ModelSize


def profile_models() -> tuple[ModelSize, ...]:
    """One ModelSize per distinct model of the listed profiles that cockpit can size.

    Profiles that do not load and models the catalog does not know are left out: the
    Profiles place and `cockpit estimate` report those; here they would only be noise.
    """
    from cockpit.profiles.store import list_profiles, load_profile_file
    from cockpit.vram.resolve import resolve_model
    from cockpit.vram.specs import UnknownModel

    sizes: dict[str, ModelSize] = {}
    for entry in list_profiles():
        profile = load_profile_file(entry.path).profile
        if profile is None or profile.model.name_or_path in sizes:
            continue
        try:
            spec = resolve_model(profile.model.name_or_path).spec
        except (UnknownModel, OSError, ValueError):
            continue
        sizes[profile.model.name_or_path] = ModelSize(profile.model.name_or_path, spec.params)
    return tuple(sizes.values())
