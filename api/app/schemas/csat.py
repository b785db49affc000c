"""Customer satisfaction (services/csat.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from app.models.csat import CSAT_COMMENT_MAX
from app.schemas.common import RequestModel, ResponseModel
from app.schemas.ticket import CsatRating

CsatComment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=CSAT_COMMENT_MAX)]


class CsatSubmit(RequestModel):
    rating: CsatRating
    comment: CsatComment | None = None


class CsatLinkView(ResponseModel):
    """What a rating link's page shows (no sign-in): the customer's own rating of this resolution,
    if any, and until when it can be changed."""

    ticket_number: int
    title: str
    rating: CsatRating | None
    comment: str | None
    expires_at: datetime
