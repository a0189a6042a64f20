"""Run directory names that say what a run is: `<time>_<model>_<overrides>`, e.g. `..._last_state_debug-smoke_model.units-8`."""

import re

from omegaconf import read_write

# The longest overrides part of a run directory's name; past it, whole overrides are left out and counted.
NAME_OVERRIDES_LENGTH = 60
BRACKETS = "[](){}'\""  # dropped from a value's ends in a name: [8,16] reads 8-16


def overrides_name(overrides, exclude_keys=()):
    """Returns `overrides` (["model.units=8", ...]) as a folder-name part, `debug-smoke_model.units-8`.

    Sorted as Hydra's `override_dirname`; characters other than letters, digits and `._+-` become
    `-`, so the folder passes unquoted as `run_dir=<it>`; cut at whole overrides past `NAME_OVERRIDES_LENGTH`.
    """
    items = []
    for override in sorted(overrides):
        key, _, value = override.partition("=")
        if key.lstrip("+~") not in exclude_keys:
            items.append(f"{key}-{re.sub(r'[^A-Za-z0-9._+-]+', '-', value.strip(BRACKETS))}")
    kept = []
    for item in items:
        if len("_".join([*kept, item])) > NAME_OVERRIDES_LENGTH:
            break
        kept.append(item)
    dropped = len(items) - len(kept)
    return "_".join(kept) + (f"_+{dropped}" if dropped else "")


def named_after_overrides(config):
    """Appends the run's overrides (`overrides_name`) to a default `hydra.run.dir`.

    A directory the user chose (`hydra.run.dir=`, `resume=`) keeps its name.
    """
    chosen = any(override.startswith("hydra.run.dir=") for override in config.hydra.overrides.hydra)
    name = overrides_name(config.hydra.overrides.task, config.hydra.job.config.override_dirname.exclude_keys)
    if chosen or config.get("resume") or not name:
        return
    with read_write(config.hydra):
        config.hydra.run.dir = f"{config.hydra.run.dir}_{name}"
