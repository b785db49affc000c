"""Display names for uploads, and the header that offers them back as a download.

A display name is only ever shown and sent back in Content-Disposition (files are stored under a
generated key), but it still travels to other people's browsers and file systems: path components,
invisible or direction-changing characters (an RTLO turns ``invoice\u202efdp.exe`` into what
looks like ``invoiceexe.pdf``), characters Windows refuses and over-long names are removed here.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_BYTES = 255
MAX_EXTENSION_CHARS = 16

_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_PATH_SEPARATORS = re.compile(r"[/\\]")
_WHITESPACE_RUN = re.compile(r"\s+")
_WINDOWS_ILLEGAL = re.compile(r'[<>:"/\\|?*]')


def _truncate_utf8(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that fits in ``limit`` UTF-8 bytes, cut between characters."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _fit(name: str) -> str:
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and len(extension) + 1 <= MAX_EXTENSION_CHARS:
        suffix = dot + extension
        budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
        stem = _truncate_utf8(stem, budget).rstrip(" .")
        if stem:
            return stem + suffix
    return _truncate_utf8(name, MAX_NAME_BYTES).rstrip(" .")


def sanitize_filename(raw: str | None, *, fallback: str = "attachment") -> str:
    """A name safe to display and to offer as a download name; ``fallback`` when nothing is left."""
    if raw is None:
        return fallback
    name = _PATH_SEPARATORS.split(unicodedata.normalize("NFC", raw))[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _REMOVED_CATEGORIES)
    name = _WHITESPACE_RUN.sub(" ", name).strip(" .")
    name = _WINDOWS_ILLEGAL.sub("_", name)
    name = _fit(name)
    if name in {"", ".", ".."}:
        return fallback
    return name


def content_disposition(name: str) -> str:
    """A single ``Content-Disposition: attachment`` value carrying ``name`` (RFC 6266 / 5987).

    The quoted ``filename`` is an ASCII-only approximation for old clients; ``filename*`` carries
    the exact name percent-encoded, so no character of ``name`` reaches the header raw.
    """
    ascii_name = "".join(ch if " " <= ch <= "~" and ch not in {'"', "\\"} else "_" for ch in name)
    encoded = quote(name, safe="", errors="replace")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"
