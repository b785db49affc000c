"""The agent's workspace: canned replies, macros and bulk actions (staff only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.auth.deps import CurrentUser, DbSession, require
from app.auth.permissions import Action
from app.schemas.ticket import StaffTicket
from app.schemas.workspace import (
    BulkRequest,
    BulkResponse,
    CannedReplyCreate,
    CannedReplyList,
    CannedReplyOut,
    CannedReplyUpdate,
    MacroCreate,
    MacroList,
    MacroOut,
    MacroUpdate,
    Rendered,
)
from app.services import bulk, canned_replies, macros, tickets
from app.utils.clock import Now

router = APIRouter(prefix="/internal", tags=["desk"])

RepliesUser = Annotated[CurrentUser, Depends(require(Action.CANNED_REPLIES))]
MacrosUser = Annotated[CurrentUser, Depends(require(Action.MACROS))]
BulkUser = Annotated[CurrentUser, Depends(require(Action.TICKETS_BULK))]


# ---------------------------------------------------------------- canned replies


@router.get("/canned-replies", response_model=CannedReplyList)
async def list_canned_replies(
    actor: RepliesUser,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> CannedReplyList:
    items = await canned_replies.list_replies(session, actor, q=q)
    return CannedReplyList.model_validate({"items": items})


@router.post("/canned-replies", response_model=CannedReplyOut, status_code=status.HTTP_201_CREATED)
async def create_canned_reply(
    body: CannedReplyCreate, actor: RepliesUser, session: DbSession, now: Now
) -> CannedReplyOut:
    reply = await canned_replies.create(session, actor, body, now)
    return CannedReplyOut.model_validate(await canned_replies.one(session, actor, reply.id))


@router.patch("/canned-replies/{reply_id}", response_model=CannedReplyOut)
async def update_canned_reply(
    reply_id: uuid.UUID, body: CannedReplyUpdate, actor: RepliesUser, session: DbSession, now: Now
) -> CannedReplyOut:
    await canned_replies.update_reply(session, actor, reply_id, body, now)
    return CannedReplyOut.model_validate(await canned_replies.one(session, actor, reply_id))


@router.delete("/canned-replies/{reply_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_canned_reply(
    reply_id: uuid.UUID, actor: RepliesUser, session: DbSession
) -> Response:
    await canned_replies.delete_reply(session, actor, reply_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/tickets/{ticket_id}/canned-replies/{reply_id}/render", response_model=Rendered)
async def render_canned_reply(
    ticket_id: uuid.UUID, reply_id: uuid.UUID, actor: RepliesUser, session: DbSession
) -> Rendered:
    return Rendered(
        body=await canned_replies.render_for_ticket(session, actor, ticket_id, reply_id)
    )


# ---------------------------------------------------------------- macros


@router.get("/macros", response_model=MacroList)
async def list_macros(actor: MacrosUser, session: DbSession) -> MacroList:
    return MacroList.model_validate({"items": await macros.list_macros(session, actor)})


@router.post("/macros", response_model=MacroOut, status_code=status.HTTP_201_CREATED)
async def create_macro(
    body: MacroCreate, actor: MacrosUser, session: DbSession, now: Now
) -> MacroOut:
    macro = await macros.create(session, actor, body, now)
    return MacroOut.model_validate(await macros.one(session, actor, macro.id))


@router.patch("/macros/{macro_id}", response_model=MacroOut)
async def update_macro(
    macro_id: uuid.UUID, body: MacroUpdate, actor: MacrosUser, session: DbSession, now: Now
) -> MacroOut:
    await macros.update_macro(session, actor, macro_id, body, now)
    return MacroOut.model_validate(await macros.one(session, actor, macro_id))


@router.delete("/macros/{macro_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_macro(macro_id: uuid.UUID, actor: MacrosUser, session: DbSession) -> Response:
    await macros.delete_macro(session, actor, macro_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/tickets/{ticket_id}/macros/{macro_id}", response_model=StaffTicket)
async def apply_macro(
    ticket_id: uuid.UUID, macro_id: uuid.UUID, actor: MacrosUser, session: DbSession, now: Now
) -> StaffTicket:
    await macros.apply_macro(session, actor, ticket_id, macro_id, now)
    return StaffTicket.model_validate(
        tickets.view(await tickets.get_row(session, actor, ticket_id), now)
    )


# ---------------------------------------------------------------- bulk


@router.post("/tickets/bulk", response_model=BulkResponse)
async def bulk_action(
    body: BulkRequest, actor: BulkUser, session: DbSession, now: Now
) -> BulkResponse:
    return BulkResponse.model_validate({"results": await bulk.run(session, actor, body, now)})
