from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import Role
from tests.factories import make_actor


async def test_me(client: AsyncClient, db: AsyncSession) -> None:
    actor = await make_actor(db, client, role=Role.ADMIN)
    r = await client.get("/api/me", headers=actor.headers)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == actor.user.email
