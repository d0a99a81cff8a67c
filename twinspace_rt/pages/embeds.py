"""Embeds in a page's body: an ``embed`` element of the rich-text document (`content.EMBED`)
carrying a ``kind`` and a ``ref`` (the object's id; a chat message's ``channel:seq``, the
address the chat wire format gives it), never a URL or any copied content.

A page's body is a document that members write freely, so an embed is only a claim: it is
resolved on every read, inside the reader's project and for what the reader may see, by the
same checks the object's own feature makes (a material's review state, a document's rights, a
chat channel's rule). Anything else (another project's object, an unknown or deleted one, a
pupil's pending upload seen by another pupil) is `embed_unavailable`, and the client shows an
"unavailable" placeholder in its place. The picker checks an embed the same way before it is
inserted, so a reference that cannot resolve is refused with that code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.chat.channels import CHANNEL_NAME_PATTERN, can_read
from twinspace_rt.documents import catalog
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.forums import threads
from twinspace_rt.materials import library
from twinspace_rt.storage.chat_models import Channel, ChatMessage

SNIPPET_MAX = 80
ID_MAX = 2**63 - 1
_ID = re.compile(r"^[1-9][0-9]{0,18}$")
_MESSAGE = re.compile(CHANNEL_NAME_PATTERN.rstrip("$") + r":[1-9][0-9]{0,18}$")


class EmbedKind(StrEnum):
    material = "material"
    document = "document"
    thread = "thread"
    message = "message"


@dataclass
class Resolved:
    """What a reader may know of an embedded object: enough to draw it, nothing more."""

    kind: EmbedKind
    ref: str
    title: str
    # A material's kind (`image`, `video`, `audio`, `file`); the client asks the materials API
    # for signed links to its bytes.
    media: str | None = None
    # What the client opens: a document's name, a message's channel.
    target: str | None = None


def parse(attrs: dict[str, Any]) -> tuple[EmbedKind, str] | None:
    """An embed element's kind and ref, or None when a member wrote something else there."""
    try:
        kind = EmbedKind(str(attrs.get("kind")))
    except ValueError:
        return None
    ref = str(attrs.get("ref"))
    shape = _MESSAGE if kind is EmbedKind.message else _ID
    if not shape.match(ref) or int(ref.rpartition(":")[2]) > ID_MAX:
        return None
    return kind, ref


async def resolve(tx: AsyncSession, member: Member, kind: EmbedKind, ref: str) -> Resolved:
    """The object, if it is in the member's project and theirs to see; `embed_unavailable`
    otherwise, whatever the reason (the reader learns nothing about other projects)."""
    require(member, Action.page_read)
    try:
        return await _resolve(tx, member, kind, ref)
    except AppError as exc:
        if exc.code in (ErrorCode.not_found, ErrorCode.forbidden):
            raise AppError(
                ErrorCode.embed_unavailable, f"No {kind.value} {ref} you may see here."
            ) from exc
        raise


async def _resolve(tx: AsyncSession, member: Member, kind: EmbedKind, ref: str) -> Resolved:
    if kind is EmbedKind.message:
        return await _message(tx, member, ref)
    if kind is EmbedKind.material:
        material = await library.material_for(tx, member, int(ref))
        if material.status != "approved":
            raise AppError(ErrorCode.not_found)  # a pending upload is not for a page
        return Resolved(kind, ref, material.title or material.filename, media=material.kind)
    if kind is EmbedKind.document:
        document = await catalog.get(tx, member, int(ref))
        if document.owner is not None:
            raise AppError(ErrorCode.not_found)  # a page's or a feature's own body
        return Resolved(kind, ref, document.title, target=document.name)
    thread = await threads.by_id(tx, member, int(ref))
    return Resolved(kind, ref, thread.title)


async def _message(tx: AsyncSession, member: Member, ref: str) -> Resolved:
    name, _, seq = ref.partition(":")
    found = await tx.exec(
        select(ChatMessage, Channel)
        .join(Channel, Channel.id == ChatMessage.channel_id)  # type: ignore[arg-type]
        .where(
            Channel.project_id == member.project_id,
            Channel.name == name,
            ChatMessage.seq == int(seq),
        )
    )
    row = found.first()
    if row is None or row[0].deleted_at is not None or not can_read(member, row[1].rule):
        raise AppError(ErrorCode.not_found)
    return Resolved(EmbedKind.message, ref, row[0].text[:SNIPPET_MAX], target=name)
