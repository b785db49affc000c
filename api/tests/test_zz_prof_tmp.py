import time, uuid, functools
from collections import defaultdict
from datetime import timedelta
from sqlalchemy import insert
from app.models import Ticket
from app.utils.clock import utcnow
from app.services import tickets, audit, notifications, canned_replies, tags, macros
from sqlalchemy.ext.asyncio import AsyncSession
from tests.test_canned_replies import staff  # noqa
from tests.test_macros_bulk import make_macro, BULK

T = defaultdict(float); C = defaultdict(int)
def wrap(mod, name):
    f = getattr(mod, name)
    @functools.wraps(f)
    async def g(*a, **k):
        t = time.perf_counter()
        try: return await f(*a, **k)
        finally: T[f"{mod.__name__}.{name}"] += time.perf_counter() - t; C[f"{mod.__name__}.{name}"] += 1
    setattr(mod, name, g)

async def test_prof(client, db, staff, monkeypatch):
    for mod, name in [(tickets,"add_comment"),(tickets,"update_fields"),(tickets,"lock"),(audit,"write"),(notifications,"send"),(canned_replies,"context_for"),(tags,"names_of"),(tags,"set_for_ticket")]:
        wrap(mod, name)
    # macros imported names by module attr, so patched
    orig_bn = AsyncSession.begin_nested
    now = utcnow(); n = 300
    ids = [uuid.uuid4() for _ in range(n)]
    await db.execute(insert(Ticket), [dict(id=t, org_id=staff.org.id, created_by=staff.customer.id, accepted_by=staff.manager.id, accepted_at=now, assigned_to=staff.agent.id, status="IN_PROGRESS", priority="P3", title=f"B{i}", description="B", created_at=now-timedelta(seconds=i), updated_at=now) for i,t in enumerate(ids)])
    macro = await make_macro(client, staff.h["agent"], [{"type":"comment","body":"Bulk #{{ ticket.number }}","is_internal":True},{"type":"tags","add":["bulk"]}])
    body = {"ticket_ids":[str(t) for t in ids], "action":{"type":"macro","macro_id":macro["id"]}}
    t=time.perf_counter()
    r = await client.post(BULK, json=body, headers=staff.h["agent"])
    el=time.perf_counter()-t
    print("\nelapsed", el, r.status_code)
    for k in sorted(T, key=T.get, reverse=True): print(f"{T[k]:.2f}s {C[k]} {k}")
