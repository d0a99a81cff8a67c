"""Group commit for new chat messages (`storage/engine.py:GroupCommit`).

The posts that arrive while the previous batch commits share one transaction and a handful of
statements, so a busy room pays one commit per batch rather than one per message, and a quiet
one commits each post at once. Each post
still gets its own answer: its stored message, a duplicate's original, or its own refusal. A
batch that fails as a whole is retried one post at a time, so one bad post cannot sink others.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from twinspace_rt.auth.policy import Member
from twinspace_rt.chat.channels import ChannelRef, require_read, require_write
from twinspace_rt.chat.messages import LINKS, MessageView
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import attachments
from twinspace_rt.projects.attachments import Attached
from twinspace_rt.storage.chat_models import Channel, ChatMessage, Mute
from twinspace_rt.storage.engine import Database, GroupCommit

log = logging.getLogger(__name__)

CHANNELS = Channel.__table__  # type: ignore[attr-defined]
MESSAGES = ChatMessage.__table__  # type: ignore[attr-defined]
MUTES = Mute.__table__  # type: ignore[attr-defined]

# The statements of every batch are built once: building them per batch (coercing each literal)
# cost more CPU than running them.
_MUTES_OF = select(MUTES.c.project_id, MUTES.c.user_id, MUTES.c.until).where(
    MUTES.c.user_id.in_(bindparam("users", expanding=True))
)
_NUMBER = (
    update(CHANNELS)
    .where(CHANNELS.c.id == bindparam("channel"))
    .values(last_seq=CHANNELS.c.last_seq + bindparam("count"))
    .returning(CHANNELS.c.last_seq)
)


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A stored message as the writer knows it; building ORM objects here cost a fifth of a
    busy server's CPU."""

    seq: int
    version: int
    author_id: int
    text: str
    reply_to: int | None
    created_at: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted_by: int | None = None


@dataclass
class Posted:
    channel: ChannelRef
    view: MessageView
    created: bool


@dataclass
class _Post:
    member: Member
    channel_name: str
    text: str
    key: str
    reply_to: int | None
    materials: list[Attached]


class ChatWriter:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._batches: GroupCommit[_Post, Posted] = GroupCommit(self._commit, name="chat")
        # Channels are never renamed, re-ruled or deleted, so a row once read stays true.
        self._channels: dict[tuple[int, str], ChannelRef] = {}

    async def post(
        self,
        member: Member,
        channel_name: str,
        text: str,
        key: str,
        reply_to: int | None,
        materials: list[Attached],
    ) -> Posted:
        """Returns once the message is committed (or refused); the caller then publishes it.
        ``materials`` were checked by the caller (`projects/attachments.py:check`)."""
        post = _Post(member, channel_name, text, key, reply_to, materials)
        return await self._batches.submit(post)

    async def close(self) -> None:
        await self._batches.close(drain=False)

    async def channels_named(self, member: Member, names: list[str]) -> list[ChannelRef]:
        """The member's project's channels by name, each readable by the member, else the
        refusal. Read once per node and then kept, like the posts' channels: a whole room
        subscribing after a restart read the same rows once per socket."""
        wanted = {(member.project_id, name) for name in names}
        if wanted - self._channels.keys():
            missing = wanted - self._channels.keys()
            self._channels.update(await self._db.run_sync(partial(_channels_of, missing)))
        found = []
        for name in names:
            channel = self._channels.get((member.project_id, name))
            if channel is None:
                raise AppError(ErrorCode.not_found, f"No channel #{name} in this project.")
            require_read(member, channel)
            found.append(channel)
        return found

    async def _commit(self, batch: list[_Post]) -> list[Posted | Exception]:
        """Optimistic first: a retried key is rare, so it is looked for only after a conflict."""
        try:
            try:
                return list(await self._db.run_sync(partial(self._write, batch, False)))
            except IntegrityError:
                return list(await self._db.run_sync(partial(self._write, batch, True)))
        except Exception:
            if len(batch) > 1:
                return [(await self._commit([post]))[0] for post in batch]
            log.exception("chat post failed")
            return [AppError(ErrorCode.internal_error)]

    def _write(
        self, batch: list[_Post], look_for_retries: bool, connection: Connection
    ) -> list[Posted | AppError]:
        """Runs through ``Database.run_sync``, one batch at a time. The channel cache is also
        filled by ``channels_named``; both only add rows that never change, so whichever adds a
        channel first, the entry is the same."""
        wanted = {(p.member.project_id, p.channel_name) for p in batch}
        if wanted - self._channels.keys():
            self._channels.update(_channels_of(wanted - self._channels.keys(), connection))
        return _write(connection, batch, self._channels, look_for_retries)


def _write(
    connection: Connection,
    batch: list[_Post],
    channels: dict[tuple[int, str], ChannelRef],
    look_for_retries: bool,
) -> list[Posted | AppError]:
    results: list[Posted | AppError | None] = [None] * len(batch)
    for index, post in enumerate(batch):
        channel = channels.get((post.member.project_id, post.channel_name))
        if channel is None:
            results[index] = AppError(ErrorCode.not_found, f"No channel #{post.channel_name}.")
            continue
        try:
            require_write(post.member, channel)
        except AppError as refusal:
            results[index] = refusal
    wanted = [i for i, r in enumerate(results) if r is None]
    existing = (
        _existing(connection, [_identity(batch[i], channels) for i in wanted])
        if look_for_retries
        else {}
    )
    muted = _muted(
        connection, {(batch[i].member.project_id, batch[i].member.user_id) for i in wanted}
    )
    replies = _existing_seqs(
        connection,
        {
            (_channel_of(batch[i], channels).id, batch[i].reply_to)
            for i in wanted
            if batch[i].reply_to is not None
        },
    )
    now = datetime.now(UTC)
    fresh: dict[tuple[int, int, str], int] = {}
    for i in wanted:
        post, channel = batch[i], _channel_of(batch[i], channels)
        identity = _identity(post, channels)
        if identity in existing:
            results[i] = Posted(channel, MessageView(existing[identity]), False)
        elif identity in fresh:
            continue  # the same retry twice in one batch: answered with the first below
        elif (until := muted.get((post.member.project_id, post.member.user_id))) and until > now:
            results[i] = AppError(
                ErrorCode.muted, retry_after=int((until - now).total_seconds()) + 1
            )
        elif post.reply_to is not None and (channel.id, post.reply_to) not in replies:
            results[i] = AppError(ErrorCode.not_found, f"No message {post.reply_to} to reply to.")
        else:
            fresh[identity] = i
    rows = _insert(
        connection, [(batch[i], _channel_of(batch[i], channels)) for i in fresh.values()], now
    )
    for i, message in zip(fresh.values(), rows, strict=True):
        view = MessageView(message, materials=batch[i].materials)
        results[i] = Posted(_channel_of(batch[i], channels), view, True)
    for i in wanted:
        if results[i] is None:
            first = results[fresh[_identity(batch[i], channels)]]
            assert isinstance(first, Posted)
            results[i] = Posted(first.channel, first.view, False)
    answered = [r for r in results if r is not None]
    assert len(answered) == len(batch)
    return answered


def _channel_of(post: _Post, channels: dict[tuple[int, str], ChannelRef]) -> ChannelRef:
    return channels[(post.member.project_id, post.channel_name)]


def _identity(post: _Post, channels: dict[tuple[int, str], ChannelRef]) -> tuple[int, int, str]:
    channel_id = _channel_of(post, channels).id
    assert channel_id is not None
    return channel_id, post.member.user_id, post.key


def _channels_of(
    names: set[tuple[int, str]], connection: Connection
) -> dict[tuple[int, str], ChannelRef]:
    found = connection.execute(
        select(CHANNELS).where(tuple_(CHANNELS.c.project_id, CHANNELS.c.name).in_(names))
    )
    return {
        (row.project_id, row.name): ChannelRef(row.id, row.project_id, row.name, row.rule)
        for row in found
    }


def _existing(
    connection: Connection, identities: list[tuple[int, int, str]]
) -> dict[tuple[int, int, str], NewMessage]:
    if not identities:
        return {}
    columns = (MESSAGES.c.channel_id, MESSAGES.c.author_id, MESSAGES.c.client_key)
    found = connection.execute(select(MESSAGES).where(tuple_(*columns).in_(identities)))
    return {(r.channel_id, r.author_id, r.client_key): _message(r) for r in found}


def _muted(
    connection: Connection, members: set[tuple[int, int]]
) -> dict[tuple[int, int], datetime]:
    if not members:
        return {}
    found = connection.execute(_MUTES_OF, {"users": sorted({user for _, user in members})})
    return {
        (r.project_id, r.user_id): r.until for r in found if (r.project_id, r.user_id) in members
    }


def _existing_seqs(
    connection: Connection, wanted: set[tuple[int | None, int | None]]
) -> set[tuple[int, int]]:
    if not wanted:
        return set()
    found = connection.execute(
        select(MESSAGES.c.channel_id, MESSAGES.c.seq).where(
            tuple_(MESSAGES.c.channel_id, MESSAGES.c.seq).in_(wanted)
        )
    )
    return {(r.channel_id, r.seq) for r in found}


def _insert(
    connection: Connection, posts: list[tuple[_Post, ChannelRef]], now: datetime
) -> list[NewMessage]:
    """Reserves each channel's next numbers, then inserts the whole batch at once. Channels are
    numbered in id order, so that two nodes' batches never wait on each other's rows in turn."""
    if not posts:
        return []
    counts = Counter(channel.id for _, channel in posts)
    next_seq: dict[int | None, int] = {
        channel_id: connection.execute(
            _NUMBER, {"channel": channel_id, "count": count}
        ).scalar_one()
        - count
        + 1
        for channel_id, count in sorted(counts.items())
    }
    values: list[dict[str, Any]] = []
    for post, channel in posts:
        seq = next_seq[channel.id]
        next_seq[channel.id] = seq + 1
        values.append(
            {
                "channel_id": channel.id,
                "seq": seq,
                "version": seq,
                "author_id": post.member.user_id,
                "client_key": post.key,
                "text": post.text,
                "reply_to": post.reply_to,
                "created_at": now,
            }
        )
    connection.execute(MESSAGES.insert(), values)
    _attach(connection, [(v, post.materials) for v, (post, _) in zip(values, posts, strict=True)])
    return [
        NewMessage(v["seq"], v["version"], v["author_id"], v["text"], v["reply_to"], now)
        for v in values
    ]


def _attach(connection: Connection, inserted: list[tuple[dict[str, Any], list[Attached]]]) -> None:
    """Links the materials of the messages that carry some; a batch of plain messages (the
    common case) costs nothing more."""
    carrying = [(v, materials) for v, materials in inserted if materials]
    if not carrying:
        return
    found = connection.execute(
        select(MESSAGES.c.id, MESSAGES.c.channel_id, MESSAGES.c.seq).where(
            tuple_(MESSAGES.c.channel_id, MESSAGES.c.seq).in_(
                [(v["channel_id"], v["seq"]) for v, _ in carrying]
            )
        )
    )
    ids = {(r.channel_id, r.seq): r.id for r in found}
    links = [
        row
        for v, materials in carrying
        for row in attachments.rows(LINKS, ids[(v["channel_id"], v["seq"])], materials)
    ]
    connection.execute(LINKS.table.insert(), links)


def _message(row: Row[Any]) -> NewMessage:
    return NewMessage(
        row.seq,
        row.version,
        row.author_id,
        row.text,
        row.reply_to,
        row.created_at,
        row.edited_at,
        row.deleted_at,
        row.deleted_by,
    )
