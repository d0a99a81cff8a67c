"""The REST wire format of pages, the journal and the showcase settings.

Outputs are validated from the payloads the hub pushes (`pages/menu.py`, `journal/views.py`),
so REST and live events cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from twinspace_rt.api.forum_schemas import Attached, AttachedOut, Id, Position, _body, _title
from twinspace_rt.api.schemas import Input
from twinspace_rt.storage.page_models import JOURNAL_BODY_MAX, PAGE_TITLE_MAX, SLUG_MAX

PageTitle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=PAGE_TITLE_MAX),
    AfterValidator(_title),
]
JournalBody = Annotated[
    str, StringConstraints(min_length=1, max_length=JOURNAL_BODY_MAX), AfterValidator(_body)
]
State = Literal["draft", "published"]
Visibility = Literal["all", "teachers"]
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=SLUG_MAX)]


class PageCreateIn(Input):
    title: PageTitle
    parent_id: Id | None = Field(None, description="The page above; null for the top level.")
    position: Position | None = Field(None, description="Default: after its last sibling.")
    visibility: Visibility = "all"


class PagePatchIn(Input):
    """``parent_id`` moves the page (null: to the top level); leave it out to stay."""

    title: PageTitle | None = None
    parent_id: Id | None = None
    position: Position | None = None
    state: State | None = None
    visibility: Visibility | None = None


class PageOut(BaseModel):
    id: int
    parent_id: int | None
    position: int
    title: str
    state: State
    visibility: Visibility
    document_id: int


class PageDetailOut(PageOut):
    document: str = Field(description="The document's name: `/yjs/{project_id}/{document}`.")


class EmbedOut(BaseModel):
    """An embed the caller may see (`pages/embeds.py`)."""

    kind: Literal["material", "document", "thread", "message"]
    ref: str = Field(description="The object's id; a chat message's `channel:seq`.")
    title: str
    media: str | None = Field(None, description="A material's kind: image, video, audio, file.")
    target: str | None = Field(None, description="A document's name, a message's channel.")


class MenuOut(BaseModel):
    pages: list[PageOut] = Field(description="In menu order: each page before its subpages.")


class JournalPostIn(Input):
    body: JournalBody
    materials: Attached = []


class JournalPatchIn(Input):
    body: JournalBody | None = None
    materials: Attached | None = Field(None, description="Replaces the attached materials.")
    pinned: bool | None = None
    approved: Literal[True] | None = None


class JournalReadIn(Input):
    post_id: Id


class JournalReadOut(BaseModel):
    last_read_id: int


class LikeIn(Input):
    on: bool = True


class JournalPostOut(BaseModel):
    id: int
    parent_id: int | None
    author_id: int
    author: str
    body: str
    html: str
    state: Literal["published", "review"]
    pinned: bool
    version: int
    likes: list[int]
    comment_count: int
    created_at: datetime
    edited_at: datetime | None
    deleted: dict[str, object] | None
    materials: list[AttachedOut]


class JournalPageOut(BaseModel):
    pinned: list[JournalPostOut]
    posts: list[JournalPostOut]
    next_before: int | None


class CommentsOut(BaseModel):
    comments: list[JournalPostOut]


class PublishingIn(Input):
    pupil_posts: Literal["off", "review", "open"] | None = None
    slug: Slug | None = None
    indexable: bool | None = None
    pupil_names: Literal["first_name", "none"] | None = None
    languages: list[Literal["en", "ar", "ca", "da", "it", "tr"]] | None = Field(
        None, min_length=1, max_length=6
    )
    pages: list[Id] | None = Field(None, max_length=200, description="The pages to show.")
    posts: list[Id] | None = Field(None, max_length=200, description="The journal posts to show.")
    showcase_on: bool | None = Field(None, description="false: unpublish everything at once.")


class PublishingOut(BaseModel):
    pupil_posts: Literal["off", "review", "open"]
    slug: str | None
    showcase_on: bool
    indexable: bool
    pupil_names: Literal["first_name", "none"]
    languages: list[str]
    pages: list[int]
    posts: list[int]
    url: str | None
