"""Recording and reading an account's login history (`storage/login_models.py`).

A sign-in attempt is recorded only when its username names an account: a typo of a name that
does not exist belongs to nobody. The client is described coarsely ("Firefox on Windows"):
enough for a member to recognise their own devices, too little to fingerprint them.
"""

from __future__ import annotations

import asyncio

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from ua_parser import parse_os, parse_user_agent

from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.login_models import ADDRESS_MAX, CLIENT_MAX, LoginEvent, LoginOutcome
from twinspace_rt.storage.models import Membership, User

# A User-Agent longer than this is cut before parsing: the parser's regular expressions then
# never see an attacker's megabyte.
AGENT_MAX = 512
# What one listing shows at most, newest first.
LIST_MAX = 200


def describe(agent: str) -> str:
    """The browser and the system families, without versions; "" when neither is known.

    The first call compiles the parser's rules (about a second): callers run it in a thread.
    """
    agent = agent[:AGENT_MAX]
    browser = parse_user_agent(agent)
    system = parse_os(agent)
    parts = [p.family for p in (browser, system) if p is not None and p.family != "Other"]
    return " on ".join(parts)[:CLIENT_MAX]


async def record(
    db: Database, username: str, outcome: LoginOutcome, address: str, agent: str
) -> None:
    """One attempt of the account named ``username``, in its own short transaction."""
    client = await asyncio.to_thread(describe, agent)
    async with db.transaction() as tx:
        found = await tx.exec(select(User.id).where(User.username == username.strip().lower()))
        user_id = found.first()
        if user_id is None:
            return
        tx.add(
            LoginEvent(
                user_id=user_id, outcome=outcome, address=address[:ADDRESS_MAX], client=client
            )
        )


async def history(tx: AsyncSession, user_id: int) -> list[LoginEvent]:
    found = await tx.exec(
        select(LoginEvent)
        .where(LoginEvent.user_id == user_id)
        .order_by(col(LoginEvent.at).desc(), col(LoginEvent.id).desc())
        .limit(LIST_MAX)
    )
    return list(found)


async def pupil_history(tx: AsyncSession, project_id: int, user_id: int) -> list[LoginEvent]:
    """For the teacher administrator who answers for a pupil of ``project_id``; a teacher's
    sign-ins are their own (they read them on their account page), so those are not found."""
    found = await tx.exec(
        select(User)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.project_id == project_id, User.id == user_id)
    )
    user = found.first()
    if user is None or not user.is_pupil:
        raise AppError(ErrorCode.not_found, f"No pupil {user_id} in this project.")
    return await history(tx, user_id)
