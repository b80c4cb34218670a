"""Exceptions with messages that name the parameter, what is allowed and what was given."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class ImplicitBiasError(Exception):
    """Base class of every error this package raises on purpose."""


def closest(given: str, allowed: Iterable[str]) -> str | None:
    """The allowed name closest to ``given`` (difflib ratio >= 0.5), or ``None``."""
    allowed = list(allowed)
    by_lower = {a.lower(): a for a in allowed}
    if str(given).lower() in by_lower:  # MIN-NORM -> min-norm
        return by_lower[str(given).lower()]
    matches = difflib.get_close_matches(str(given).lower(), list(by_lower), n=1, cutoff=0.5)
    return by_lower[matches[0]] if matches else None


class ConfigError(ImplicitBiasError, ValueError):
    """A bad value for a named parameter, raised before any work starts.

    The message follows one template: ``` `param`: expected ALLOWED, got GIVEN.``` and,
    when the allowed values are names, ``Did you mean `NAME`?``.
    """

    def __init__(
        self,
        param: str,
        allowed: str,
        given: Any,
        *,
        choices: Iterable[str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.param = param
        self.allowed = allowed
        self.given = given
        message = f"`{param}`: expected {allowed}, got {given!r}."
        if choices is not None:
            suggestion = closest(str(given), choices)
            if suggestion is not None and suggestion != given:
                message += f" Did you mean `{suggestion}`?"
        if hint:
            message += f" {hint}"
        super().__init__(message)


class DivergenceError(ImplicitBiasError, FloatingPointError):
    """Training produced NaN or inf. ``trajectory`` holds everything kept before it."""

    def __init__(self, message: str, *, divergence: Any = None, trajectory: Any = None) -> None:
        super().__init__(message)
        self.divergence = divergence
        self.trajectory = trajectory


class EnvironmentFailure(ImplicitBiasError):
    """The machine, not the input, stopped the command (a full disk, missing memory); the
    command line exits 1."""

    exit_code = 1
