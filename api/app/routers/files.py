"""How a stored attachment is handed to a browser: always as a download, never rendered."""

from __future__ import annotations

from fastapi.responses import FileResponse

from app.services.attachments import Download
from app.utils.filenames import content_disposition

ATTACHMENT_CSP = "default-src 'none'; sandbox"


def attachment_response(download: Download) -> FileResponse:
    return FileResponse(
        download.path,
        media_type=download.mime_type,
        headers={
            "Content-Disposition": content_disposition(download.file_name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": ATTACHMENT_CSP,
            "Cache-Control": "private, no-store",
        },
    )
