"""atheris harness: the mail parser and the message identity.

Invariant, whatever the bytes: ``parse`` returns a ParsedMail (never raises) whose sender is a
lower-case address or None, whose text holds no NUL byte, and ``identity`` returns a 64-character
content hash. A mail that cannot be read degrades to what can be read; it never stops the worker.

Run: ``cd api && uv run --group fuzz python ../fuzz/fuzz_mail_parse.py -max_total_time=60``
(seeded with tests/mail_corpus: pass the folder as a corpus directory to start from real mail).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

with atheris.instrument_imports():
    from app.mail.parse import identity, parse


def test_one(data: bytes) -> None:
    parsed = parse(data, our_domain="desk.test")
    assert parsed.from_address is None or parsed.from_address == parsed.from_address.lower()
    assert "\x00" not in parsed.text
    _, content_hash = identity(data)
    assert len(content_hash) == 64


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
