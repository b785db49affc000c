"""atheris harness: the upload display-name sanitiser and the Content-Disposition it feeds.

Invariants, whatever the uploader sends as a file name:
- ``sanitize_filename`` returns a non-empty name of at most 255 UTF-8 bytes, never "." or "..",
  without path separators, NUL, control, format (RTLO), surrogate or private-use characters;
- ``content_disposition`` of that name is one header value: printable ASCII only (no CR/LF), an
  ``attachment`` whose ``filename*`` decodes back to exactly the name.

Run: ``cd api && uv run --group fuzz python ../fuzz/fuzz_filenames.py -max_total_time=60``
(any libFuzzer flag works; a crash prints the input and exits non-zero).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

with atheris.instrument_imports():
    from app.utils.filenames import MAX_NAME_BYTES, content_disposition, sanitize_filename

FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
HEADER = re.compile(r"attachment; filename=\"[ -~]*\"; filename\*=UTF-8''([A-Za-z0-9%._~-]+)")


def check(raw: str) -> None:
    name = sanitize_filename(raw)
    assert name, repr(raw)
    assert name not in {".", ".."}, repr(raw)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES, repr(raw)
    assert "/" not in name and "\\" not in name, repr(raw)
    assert not any(unicodedata.category(ch) in FORBIDDEN_CATEGORIES for ch in name), repr(name)
    assert name == name.strip(" ."), repr(name)
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header, repr(header)
    match = HEADER.fullmatch(header)
    assert match, repr(header)
    assert unquote(match.group(1), errors="strict") == name, repr(name)


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    if provider.ConsumeBool():
        check(provider.ConsumeUnicode(provider.remaining_bytes()))
    else:
        check(provider.ConsumeBytes(provider.remaining_bytes()).decode("utf-8", "replace"))


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
