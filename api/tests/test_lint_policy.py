"""Lint policy: ruff's ``S`` rules (bandit's checks) are on for the app, and every place that
silences one says why, on the same line: ``# noqa: S608  (column names only)``. A bare
``# noqa`` (which would silence them all) is refused too."""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
NOQA = re.compile(r"#\s*noqa\b(?P<colon>:)?(?P<codes>[\s,A-Z0-9]*)(?P<rest>.*)$")
JUSTIFIED = re.compile(r"^\s*\(\s*[^)\s][^)]*\)")


def unjustified(source: str) -> list[tuple[int, str]]:
    """Lines of *source* that silence an S rule (or everything) without a reason in
    parentheses right after the codes."""
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        match = NOQA.search(line)
        if match is None:
            continue
        codes = re.findall(r"[A-Z]+[0-9]+", match["codes"]) if match["colon"] else []
        silences_s = not codes or any(re.fullmatch(r"S[0-9]+", c) for c in codes)
        if silences_s and not JUSTIFIED.match(match["rest"]):
            found.append((number, line.strip()))
    return found


def test_the_checker_tells_justified_from_bare() -> None:
    assert unjustified("x = 1  # noqa: S105  (a marker, not a password)") == []
    assert unjustified('"""  # noqa: S608  (column names only)') == []
    assert unjustified("run()  # noqa: S603, S607  (fixed argv)") == []
    assert unjustified("x = 1  # noqa: E501") == []
    assert len(unjustified("x = 1  # noqa: S105")) == 1
    assert len(unjustified("x = 1  # noqa: S105 ()")) == 1
    assert len(unjustified("x = 1  # noqa: E501, S608")) == 1
    assert len(unjustified("x = 1  # noqa: S310 the operator's URL")) == 1
    assert len(unjustified("x = 1  # noqa")) == 1


def test_every_silenced_security_rule_in_the_app_says_why() -> None:
    offenders = [
        f"{path.relative_to(APP.parent)}:{number}: {line}"
        for path in sorted(APP.rglob("*.py"))
        for number, line in unjustified(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "\n".join(offenders)
