"""Customer satisfaction through a mailed link, without signing in (services/csat.py). Reading
records nothing; only the page's submit does. The token is in the path, as the contract names it:
the access log shows it redacted (middleware/request_context.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.auth.deps import DbSession
from app.context import client_ip_var
from app.schemas.csat import CsatLinkView, CsatSubmit
from app.services import csat
from app.utils.clock import Now

router = APIRouter(prefix="/csat", tags=["csat"])

Token = Annotated[str, Path(min_length=1, max_length=100)]


@router.get("/{token}", response_model=CsatLinkView)
async def inspect(token: Token, session: DbSession, now: Now) -> CsatLinkView:
    """The ticket a rating link is about and the rating given with it, if any (records nothing:
    mail scanners open links)."""
    return CsatLinkView.model_validate(await csat.inspect(session, token, now))


@router.post("/{token}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def submit(token: Token, body: CsatSubmit, session: DbSession, now: Now) -> Response:
    """Record (or change, until the link expires) the rating; a bad, expired or tampered link is
    404. Limited per client address."""
    await csat.submit_by_link(
        session, token, csat.Rating(body.rating, body.comment or None), client_ip_var.get(), now
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
