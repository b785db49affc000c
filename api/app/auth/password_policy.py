"""What a new password must be (ASVS 6.2): 12 to 256 characters, and not guessable — zxcvbn's
estimate, which knows the common passwords, names, keyboard walks and the person's own name and
address, must reach "safely unguessable" (score 3 of 4). No composition rules."""

from __future__ import annotations

from collections.abc import Iterable

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from app.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_SCORE = 3


def problem(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """Why *password* is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters"
    inputs = [part for value in user_inputs for part in _parts(value)]
    # zxcvbn refuses more than 72 characters; the first 72 decide (longer passwords rarely
    # need the estimate at all).
    result = zxcvbn(password[:72], user_inputs=inputs)
    if int(result["score"]) >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    warning = str(feedback.get("warning") or "").strip()
    hint = " ".join(str(s) for s in feedback.get("suggestions") or [])
    return " ".join(x for x in ("This password is too easy to guess.", warning, hint) if x).strip()


def check(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Raise ``Invalid("password", …)`` unless *password* is acceptable."""
    reason = problem(password, user_inputs)
    if reason is not None:
        raise Invalid("password", reason)


def _parts(value: str) -> list[str]:
    value = value.lower()
    local = value.partition("@")[0]
    return [value, local, *value.replace("@", " ").replace(".", " ").split()]
