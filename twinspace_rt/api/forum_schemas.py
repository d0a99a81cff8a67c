"""The REST wire format of forums, the bulletin, activity and search (OpenAPI shows these).

Outputs are validated from the same payloads the hub pushes (`forums/views.py`), so REST and
live events cannot drift apart.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from twinspace_rt.api.schemas import Description, Input
from twinspace_rt.projects.attachments import ATTACHMENTS_MAX
from twinspace_rt.storage.chat_models import REPORT_REASON_MAX
from twinspace_rt.storage.forum_models import BODY_MAX, TITLE_MAX


def _title(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _body(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" and ch not in "\r\n\t" for ch in value):
        raise ValueError("must not contain control characters other than newline and tab")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX),
    AfterValidator(_title),
]
Body = Annotated[str, StringConstraints(min_length=1, max_length=BODY_MAX), AfterValidator(_body)]
Position = Annotated[int, Field(ge=0, le=10_000)]
ID_MAX = 2**31 - 1  # row ids and seqs are 32-bit integers in the store
Id = Annotated[int, Field(ge=1, le=ID_MAX)]


Attached = Annotated[
    list[Id],
    Field(
        max_length=ATTACHMENTS_MAX,
        description="Approved materials of the project, in order (`projects/attachments.py`).",
    ),
]


class AttachedOut(BaseModel):
    """An attached material; one rejected or removed since stays in place, unavailable."""

    id: int | None
    kind: Literal["image", "video", "audio", "file"] | None
    title: str | None
    available: bool


class ForumCreateIn(Input):
    title: Title
    description: Description = ""
    position: Position | None = Field(None, description="Default: after the last forum.")


class ForumPatchIn(Input):
    title: Title | None = None
    description: Description | None = None
    position: Position | None = None


class ThreadCreateIn(Input):
    title: Title
    body: Body = Field(description="The opening post, in the light markup.")
    materials: Attached = []


class ThreadPatchIn(Input):
    title: Title | None = None
    pinned: bool | None = None
    locked: bool | None = None
    forum_id: Id | None = Field(None, description="Move the thread to this forum.")


class PostCreateIn(Input):
    body: Body
    reply_to: Id | None = Field(None, description="The id of a post in the same thread.")
    materials: Attached = []


class BulletinCreateIn(Input):
    body: Body


class PostEditIn(Input):
    body: Body


class ReactionIn(Input):
    emoji: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    on: bool = True


class ReportIn(Input):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=REPORT_REASON_MAX)]


class ReadIn(Input):
    seq: Annotated[int, Field(ge=0, le=ID_MAX)]


class ForumOut(BaseModel):
    id: int
    title: str
    description: str
    position: int
    created_by: int
    created_at: datetime


class ForumListOut(BaseModel):
    forums: list[ForumOut]


class ThreadOut(BaseModel):
    id: int
    forum_id: int
    title: str
    author_id: int
    pinned: bool
    locked: bool
    post_count: int
    last_post_seq: int = Field(description="Forum-stream seq of the newest post.")
    version: int = Field(description="Forum-stream seq of the latest change.")
    created_at: datetime


class ThreadPageOut(BaseModel):
    pinned: list[ThreadOut] = Field(description="Pinned threads, on the first page only.")
    threads: list[ThreadOut]
    next_before: int | None = Field(description="Pass as `before` for the next page.")


class DeletedOut(BaseModel):
    by: int | None
    at: datetime


class PostOut(BaseModel):
    id: int
    board: Literal["forum", "bulletin"]
    thread_id: int | None
    seq: int
    version: int
    author_id: int
    body: str = Field(description="The source, as written (empty once deleted).")
    html: str = Field(description="The source rendered to sanitised HTML (the markup subset).")
    reply_to: int | None
    created_at: datetime
    edited_at: datetime | None
    deleted: DeletedOut | None
    reactions: dict[str, list[int]]
    materials: list[AttachedOut]


class ThreadCreatedOut(BaseModel):
    thread: ThreadOut
    post: PostOut


class PostPageOut(BaseModel):
    thread: ThreadOut
    posts: list[PostOut]
    next_after: int | None = Field(description="Pass as `after` for the next page.")


class BulletinPageOut(BaseModel):
    posts: list[PostOut]
    next_before: int | None = Field(description="Pass as `before` for the next page.")


class ReadOut(BaseModel):
    last_read_seq: int


class ReportOut(BaseModel):
    report_id: int


class ThreadUnreadOut(BaseModel):
    thread_id: int
    forum_id: int
    title: str
    forum_title: str
    unread: int


class DocumentNewOut(BaseModel):
    id: int
    title: str


class MaterialNewOut(BaseModel):
    id: int
    title: str
    filename: str
    media: str = Field(description="image, video, audio or file")


class MaterialsNewOut(BaseModel):
    count: int = Field(description="Materials others added since I marked them seen.")
    newest: list[MaterialNewOut] = Field(description="The newest of them, at most 10.")


class ActivityOut(BaseModel):
    chat: dict[str, int] = Field(description="Unread messages per chat channel I may read.")
    threads: list[ThreadUnreadOut] = Field(description="Threads with unread posts.")
    forum_unread: int
    bulletin: int | None = Field(description="Unread bulletin posts; null without access.")
    journal: int | None = Field(None, description="Unread journal posts; null without access.")
    pages: list[int] | None = Field(
        None,
        description="Pages I see that others created or edited since I last opened them, "
        "in menu order; null without access.",
    )
    documents: list[DocumentNewOut] | None = Field(
        None,
        description="Documents of the Documents list that others created or edited since I "
        "last opened them, newest change first; null without access.",
    )
    materials: MaterialsNewOut | None = Field(
        None, description="Materials new to me (as the albums show them); null without access."
    )


class SearchHitOut(BaseModel):
    kind: Literal["chat", "forum", "bulletin", "page", "journal", "document", "material"]
    id: int = Field(description="Message, post, page, journal post, document or material id.")
    created_at: datetime
    author_id: int
    snippet: str = Field(description="Escaped text with matches in `<mark>`.")
    channel: str | None = None
    seq: int | None = None
    thread_id: int | None = None
    thread_title: str | None = None
    title: str | None = Field(None, description="A page's, document's or material's title.")
    filename: str | None = Field(None, description="A material's file name.")
    media: str | None = Field(None, description="A material's kind: image, video, audio, file.")
    parent_id: int | None = Field(None, description="A journal comment's post.")


class SearchOut(BaseModel):
    hits: list[SearchHitOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
