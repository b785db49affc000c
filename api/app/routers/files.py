"""How a stored attachment is handed to a browser: always as a download, never rendered.

Behind nginx (``ATUM_ACCEL_REDIRECT_PREFIX`` set) the answer has an empty body and an
``X-Accel-Redirect`` header: nginx then sends the file from an ``internal`` location, so the bytes
never pass through a Python worker. The permission check and the audit entry have happened by then.
"""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import FileResponse

from app.config import get_settings
from app.services.attachments import Download
from app.utils.filenames import content_disposition

ATTACHMENT_CSP = "default-src 'none'; sandbox"


def attachment_response(download: Download) -> Response:
    headers = {
        "Content-Disposition": content_disposition(download.file_name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": ATTACHMENT_CSP,
        "Cache-Control": "private, no-store",
    }
    prefix = get_settings().accel_redirect_prefix
    if prefix is not None:
        key = download.path.name
        headers["X-Accel-Redirect"] = f"{prefix}/{download.path.parent.name}/{key}"
        return Response(media_type=download.mime_type, headers=headers)
    return FileResponse(download.path, media_type=download.mime_type, headers=headers)
