"""Who may open a socket, read for many handshakes at once.

After a node restarts, its thousands of clients reconnect within a second or two, and each
handshake read the token's user, the project and the membership in a transaction of its own:
three queries and a pooled connection per socket, so the handshakes queued for the pool and
timed out. Here the handshakes that arrive while one batch is being read share the next
(natural batching, `storage/engine.py:GroupCommit`): three queries per batch, whatever its size.

Nothing is cached: every handshake is judged on rows read after it arrived, so a revoked token
(its generation bumped), a removal, a role change or a closed project refuse the very next
socket, as they did when each handshake read alone. The rules are those of
`accounts.sign_in_for_token` and `membership.enter`, applied in the same order.

Tokens of the identity platform (`ExternalIdentity`) may create the account on first sight,
which is a write; they keep the one-transaction path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import tuple_
from sqlmodel import col, select

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.auth.tokens import LocalIdentity, TokenService
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects.accounts import sign_in_for_token
from twinspace_rt.projects.membership import as_member, enter
from twinspace_rt.storage.engine import Database, GroupCommit
from twinspace_rt.storage.models import Membership, Project, User


@dataclass(frozen=True, slots=True)
class Admitted:
    user: User
    expires_at: datetime
    sign_in: str  # the token's sign-in (empty for the identity platform's tokens)
    member: Member


@dataclass(frozen=True, slots=True)
class _Ask:
    identity: LocalIdentity
    project_id: int


class Admissions:
    """One per node: the handshakes' reads, batched."""

    def __init__(self, db: Database, tokens: TokenService) -> None:
        self._db = db
        self._tokens = tokens
        self._batches: GroupCommit[_Ask, tuple[User, Member]] = GroupCommit(
            self._read, name="admissions"
        )

    async def admit(self, token: str, project_id: int, action: Action) -> Admitted:
        """The member ``token`` speaks for in ``project_id``, refused (``AppError``) unless the
        token is current and the membership allows ``action``."""
        identity = self._tokens.decode(token)
        if not isinstance(identity, LocalIdentity):
            async with self._db.transaction() as tx:
                user, expires_at, sign_in = await sign_in_for_token(tx, self._tokens, token)
                _, member = await enter(tx, user, project_id, action)
            return Admitted(user, expires_at, sign_in, member)
        user, member = await self._batches.submit(_Ask(identity, project_id))
        require(member, Action.project_view)
        require(member, action)
        return Admitted(user, identity.expires_at, identity.sign_in, member)

    async def close(self) -> None:
        await self._batches.close(drain=False)

    async def _read(self, batch: list[_Ask]) -> list[tuple[User, Member] | Exception]:
        user_ids = {ask.identity.user_id for ask in batch}
        project_ids = {ask.project_id for ask in batch}
        pairs = {(ask.project_id, ask.identity.user_id) for ask in batch}
        async with self._db.reader() as tx:
            users = {
                user.id: user
                for user in await tx.exec(select(User).where(col(User.id).in_(user_ids)))
            }
            projects = {
                project.id: project
                for project in await tx.exec(
                    select(Project).where(col(Project.id).in_(project_ids))
                )
            }
            memberships = {
                (m.project_id, m.user_id): m
                for m in await tx.exec(
                    select(Membership).where(
                        tuple_(col(Membership.project_id), col(Membership.user_id)).in_(pairs)
                    )
                )
            }
        return [_judge(ask, users, projects, memberships) for ask in batch]


def _judge(
    ask: _Ask,
    users: dict[int | None, User],
    projects: dict[int | None, Project],
    memberships: dict[tuple[int, int], Membership],
) -> tuple[User, Member] | Exception:
    """`sign_in_for_token`, then `membership.enter`, on rows read for the whole batch."""
    identity = ask.identity
    user = users.get(identity.user_id)
    if user is None or user.token_generation != identity.generation:
        return AppError(ErrorCode.token_invalid, "This token has been revoked.")
    if user.must_change_password:
        return AppError(ErrorCode.password_change_required)
    project = projects.get(ask.project_id)
    if project is None:
        return AppError(ErrorCode.not_found, f"No project {ask.project_id}.")
    membership = memberships.get((ask.project_id, identity.user_id))
    if membership is None:
        return AppError(ErrorCode.forbidden, "You are not a member of this project.")
    return user, as_member(project, identity.user_id, membership.role)
