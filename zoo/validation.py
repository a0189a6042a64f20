"""Argument checks shared by the builders and the config check, so every bad value gets the same one-line message."""

import os
from collections.abc import Iterable

from zoo.errors import ZooError


def positive_int(name, value):
    """Returns `value` if it is an integer >= 1, else raises a ZooError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ZooError(
            f"Received an invalid value for {name}, expected a positive integer, got {value!r}."
        )
    return value


def non_negative_int(name, value):
    """Returns `value` if it is an integer >= 0, else raises a ZooError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ZooError(
            f"Received an invalid value for {name}, expected an integer >= 0, got {value!r}."
        )
    return value


def positive_number(name, value):
    """Returns `value` if it is a number > 0, else raises a ZooError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ZooError(
            f"Received an invalid value for {name}, expected a positive number, got {value!r}."
        )
    return value


def fraction(name, value, *, upper_inclusive=False):
    """Returns `value` if it lies in [0, 1) (or [0, 1]), else raises a ZooError naming `name`."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (is_number and 0 <= value and (value <= 1 if upper_inclusive else value < 1)):  # type first, then range
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ZooError(
            f"Received an invalid value for {name}, expected a number in {interval}, got {value!r}."
        )
    return value


def non_negative_number(name, value):
    """Returns `value` if it is a number >= 0, else raises a ZooError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ZooError(f"Received an invalid value for {name}, expected a number >= 0, got {value!r}.")
    return value


def one_of(name, value, allowed: Iterable):
    """Returns `value` if it is one of `allowed`, else raises a ZooError listing them."""
    allowed = list(allowed)
    if value not in allowed:
        raise ZooError(
            f"Received an invalid value for {name}, expected one of {allowed}, got {value!r}."
        )
    return value


def boolean(name, value):
    """Returns `value` if it is a bool, else raises a ZooError naming `name`."""
    if not isinstance(value, bool):
        raise ZooError(
            f"Received an invalid value for {name}, expected true or false, got {value!r}."
        )
    return value


def physical_memory_bytes():
    """Returns this machine's physical memory in bytes, or None where the OS does not say (Windows)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def fits_in_memory(what, needed_bytes, fix):
    """Raises a ZooError, before anything is allocated, when `what` needs more bytes than the machine has."""
    available = physical_memory_bytes()
    if available is not None and needed_bytes > available:
        raise ZooError(
            f"{what} need about {needed_bytes / 2**30:,.0f} GiB, more than this machine's "
            f"{available / 2**30:,.0f} GiB of memory: {fix}."
        )
