"""atheris harness: the upload type sniffer.

Invariant, whatever the bytes, file name and declared type: ``sniff`` either returns a type on the
allow-list or raises ``RefusedType``; never another exception. A file that claims to be an image
(declared type, or the extension of its sanitised name) is only ever stored as a raster image.

Run: ``cd api && uv run --group fuzz python ../fuzz/fuzz_filetypes.py -max_total_time=60``
"""

from __future__ import annotations

import io
import os
import sys
import zipfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

with atheris.instrument_imports():
    from app.utils import filetypes
    from app.utils.filenames import sanitize_filename
    from app.utils.filetypes import IMAGE_EXTENSIONS, IMAGE_TYPES, SNIFF_BYTES, RefusedType, sniff

ALLOWED = {
    filetypes.PNG,
    filetypes.JPEG,
    filetypes.GIF,
    filetypes.WEBP,
    filetypes.PDF,
    filetypes.ZIP,
    filetypes.TEXT,
    filetypes.CSV,
    filetypes.DOCX,
    filetypes.XLSX,
    filetypes.PPTX,
    filetypes.ODT,
    filetypes.ODS,
    filetypes.ODP,
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.ms-outlook",
}
NAMES = ["a.txt", "a.png", "a.jpg", "a.svg", "a.pdf", "a.csv", "a.docx", "a.odt", "a.doc", "a"]
DECLARED = [None, "text/plain", "image/png", "image/svg+xml", "application/pdf", "text/html"]
PREFIXES = [b"", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"%PDF-", b"PK\x03\x04", b"\xff\xd8\xff"]


def zip_names(data: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except zipfile.BadZipFile as exc:
        raise RefusedType("The archive is damaged.") from exc


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    pick_name = provider.ConsumeBool()
    raw_name = provider.PickValueInList(NAMES) if pick_name else provider.ConsumeUnicode(40)
    # The upload path sniffs the sanitised display name (services/attachments.py).
    name = sanitize_filename(raw_name)
    declared = provider.PickValueInList(DECLARED)
    content = provider.PickValueInList(PREFIXES) + provider.ConsumeBytes(provider.remaining_bytes())
    head = content[:SNIFF_BYTES]

    def members() -> list[str]:
        return zip_names(content)

    try:
        mime = sniff(head, file_name=name, declared_type=declared, zip_names=members)
    except RefusedType as refused:
        assert refused.reason and len(refused.reason) < 200
        return
    assert mime in ALLOWED, mime
    extension = os.path.splitext(name)[1].lower()
    claims_image = (declared or "").startswith("image/") or extension in IMAGE_EXTENSIONS
    if claims_image:
        assert mime in IMAGE_TYPES, (name, declared, mime)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
