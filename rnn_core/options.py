"""Bounded settings a visitor may change (retrain panels, generation controls).

Absurd values are clamped, never trusted, and every change is reported back as a
sentence so the UI can say what it did.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """A default with either numeric bounds or a set of allowed choices."""
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None


def clamp_options(values: dict, spec: dict[str, Option]) -> tuple[dict, list[str]]:
    """Return ``values`` restricted to ``spec`` (missing -> default), plus notes on
    every value that had to change."""
    out, notes = {}, []
    for name, opt in spec.items():
        v = values.get(name, opt.default)
        if v is None or v == "":
            v = opt.default
        if opt.choices is not None:
            v = str(v).lower()
            if v not in opt.choices:
                notes.append(f"{name} {v!r} is not one of {', '.join(opt.choices)}; using {opt.default}.")
                v = opt.default
        elif isinstance(opt.default, bool):
            v = bool(v)
        else:
            try:
                v = type(opt.default)(float(v))
            except (TypeError, ValueError, OverflowError):
                notes.append(f"{name} {v!r} is not a number; using {opt.default}.")
                v = opt.default
            if v != v:  # NaN
                notes.append(f"{name} is not a number; using {opt.default}.")
                v = opt.default
            if opt.low is not None and v < opt.low:
                notes.append(f"{name} {v} is below {opt.low}; using {opt.low}.")
                v = type(opt.default)(opt.low)
            if opt.high is not None and v > opt.high:
                notes.append(f"{name} {v} is above {opt.high}; using {opt.high}.")
                v = type(opt.default)(opt.high)
        out[name] = v
    return out, notes


def whole_number(value, default: int = 0) -> int:
    """A visitor's number as an int: NaN, infinities and anything that is not a number
    give ``default`` (a position or unit index from a slider sent through the API)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return int(number) if number == number and abs(number) != float("inf") else default
