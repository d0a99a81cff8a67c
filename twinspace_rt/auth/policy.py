"""The one permission table. Every check in the product asks ``can(member, action)``.

Roles and their rights follow eTwinning's TwinSpace. The project's status narrows the table:
an archived project is read-only for everyone, a closed one admits only teacher administrators.
``docs/ROLES.md`` is generated from this module (``twinspace-rt docs roles``) and a test keeps the
two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from twinspace_rt.errors import AppError, ErrorCode


class Role(StrEnum):
    teacher_admin = "teacher_admin"
    teacher = "teacher"
    expert = "expert"
    observer = "observer"
    pupil_admin = "pupil_admin"
    pupil = "pupil"


class ProjectStatus(StrEnum):
    active = "active"
    archived = "archived"
    closed = "closed"


TEACHER_ROLES = frozenset({Role.teacher_admin, Role.teacher, Role.expert, Role.observer})
PUPIL_ROLES = frozenset({Role.pupil_admin, Role.pupil})


class Action(StrEnum):
    project_view = "project.view"
    project_manage = "project.manage"
    members_manage = "members.manage"
    pupils_create = "pupils.create"
    audit_read = "audit.read"
    chat_read = "chat.read"
    chat_send = "chat.send"
    chat_moderate = "chat.moderate"
    chat_read_pupil_channel = "chat.read_pupil_channel"
    chat_write_pupil_channel = "chat.write_pupil_channel"
    chat_staff_room = "chat.staff_room"
    chat_pupil_channel = "chat.pupil_channel"
    chat_manage_channels = "chat.manage_channels"
    forum_read = "forum.read"
    forum_manage = "forum.manage"
    forum_create_thread = "forum.create_thread"
    forum_reply = "forum.reply"
    forum_moderate = "forum.moderate"
    bulletin_read = "bulletin.read"
    bulletin_post = "bulletin.post"
    bulletin_moderate = "bulletin.moderate"
    doc_read = "doc.read"
    doc_edit = "doc.edit"
    doc_manage = "doc.manage"
    video_start = "video.start"
    video_join = "video.join"
    video_moderate = "video.moderate"
    video_share_screen = "video.share_screen"
    content_report = "content.report"
    page_read = "page.read"
    page_read_drafts = "page.read_drafts"
    page_read_staff = "page.read_staff"
    page_edit = "page.edit"
    page_manage = "page.manage"
    journal_read = "journal.read"
    journal_post = "journal.post"
    journal_react = "journal.react"
    journal_moderate = "journal.moderate"
    showcase_manage = "showcase.manage"
    privacy_manage = "privacy.manage"
    materials_read = "materials.read"
    materials_upload = "materials.upload"
    materials_manage = "materials.manage"
    materials_review = "materials.review"


# Actions that change nothing; the only ones an archived project still allows.
READ_ACTIONS = frozenset(
    {
        Action.project_view,
        Action.audit_read,
        Action.chat_read,
        Action.chat_read_pupil_channel,
        Action.chat_staff_room,
        Action.chat_pupil_channel,
        Action.forum_read,
        Action.bulletin_read,
        Action.doc_read,
        Action.page_read,
        Action.page_read_drafts,
        Action.page_read_staff,
        Action.journal_read,
        Action.materials_read,
    }
)

# What an action means, for the generated matrix.
ACTION_NOTES: dict[Action, str] = {
    Action.project_view: "enter the room and see its members",
    Action.project_manage: "rename, archive, close or reopen the project",
    Action.members_manage: "invite teachers, change roles, remove members",
    Action.pupils_create: "create pupil accounts and reset their passwords",
    Action.audit_read: "read the moderation and administration audit log",
    Action.chat_read: "read the chat channels open to the role",
    Action.chat_send: "write in chat",
    Action.chat_moderate: "delete others' messages, mute members, handle reports",
    Action.chat_read_pupil_channel: "read the supervised pupils' channel without being a pupil",
    Action.chat_write_pupil_channel: "write in the supervised pupils' channel as staff, to step "
    "in (the client marks these messages as a teacher's)",
    Action.chat_staff_room: "read and write the teachers' staff-room channels",
    Action.chat_pupil_channel: "read and write the supervised pupils' channels",
    Action.chat_manage_channels: "add channels with a member rule",
    Action.forum_read: "read forums",
    Action.forum_manage: "create, order and delete forums",
    Action.forum_create_thread: "open a thread",
    Action.forum_reply: "post a reply",
    Action.forum_moderate: "edit/delete any post, pin, lock and move threads",
    Action.bulletin_read: "read the teachers' bulletin",
    Action.bulletin_post: "post on the teachers' bulletin",
    Action.bulletin_moderate: "delete others' posts on the teachers' bulletin",
    Action.doc_read: "open documents (read-only)",
    Action.doc_edit: "edit document content",
    Action.doc_manage: "create, rename, delete documents; save and restore versions",
    Action.video_start: "start a video session",
    Action.video_join: "join a video session",
    Action.video_moderate: "admit, mute, lock, remove participants, end the session",
    Action.video_share_screen: "share a screen in a video session (as a second feed on the "
    "SFU); locks and the session's `publish` rule apply as to cameras",
    Action.page_read: "read the project's published pages",
    Action.page_read_drafts: "read draft pages (and open their documents)",
    Action.page_read_staff: "read pages whose visibility is teachers only",
    Action.page_edit: "edit the body of the pages one may read",
    Action.page_manage: "create, move, rename, publish, hide and delete pages",
    Action.journal_read: "read the project journal",
    Action.journal_post: "post in the journal (pupils: as the project's setting allows)",
    Action.journal_react: "like and comment on journal posts",
    Action.journal_moderate: "pin, approve, delete others' journal posts and comments",
    Action.showcase_manage: "publish and unpublish the public showcase",
    Action.privacy_manage: "export or erase a member's data, read a pupil's sign-ins, set "
    "retention (also when archived)",
    Action.content_report: "flag a chat message, a post or a material to the moderators",
    Action.materials_read: "see the albums and folders and the approved materials in them",
    Action.materials_upload: "upload materials (pupils: where the album or folder and the "
    "project's `pupil_uploads` setting allow it)",
    Action.materials_manage: "create, edit, order and delete albums, folders and materials",
    Action.materials_review: "see the review queue; approve or reject pupils' uploads; set "
    "the project's `pupil_uploads`",
}

_ALL = frozenset(Action)
_EVERYONE_READS = frozenset(
    {
        Action.project_view,
        Action.chat_read,
        Action.forum_read,
        Action.doc_read,
        Action.page_read,
        Action.journal_read,
        Action.materials_read,
        Action.materials_upload,
    }
)

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.teacher_admin: _ALL - {Action.chat_pupil_channel},
    Role.teacher: _ALL
    - {
        Action.project_manage,
        Action.members_manage,
        Action.pupils_create,
        Action.chat_manage_channels,
        Action.forum_manage,
        Action.bulletin_moderate,
        Action.video_start,
        Action.chat_pupil_channel,
        Action.page_manage,
        Action.showcase_manage,
        Action.privacy_manage,
    },
    Role.expert: _EVERYONE_READS
    | {
        Action.content_report,
        Action.chat_send,
        Action.forum_create_thread,
        Action.forum_reply,
        Action.doc_edit,
        Action.video_join,
        Action.video_share_screen,
        Action.page_read_staff,
        Action.journal_post,
        Action.journal_react,
        Action.materials_manage,
    },
    Role.observer: _EVERYONE_READS
    | {Action.video_join, Action.content_report, Action.page_read_staff},
    Role.pupil_admin: _EVERYONE_READS
    | {
        Action.content_report,
        Action.chat_pupil_channel,
        Action.chat_send,
        Action.forum_create_thread,
        Action.forum_reply,
        Action.doc_edit,
        Action.doc_manage,
        Action.video_join,
        Action.video_share_screen,
        Action.page_read_drafts,
        Action.page_edit,
        Action.journal_post,
        Action.journal_react,
    },
    Role.pupil: _EVERYONE_READS
    | {
        Action.content_report,
        Action.chat_pupil_channel,
        Action.chat_send,
        Action.forum_reply,
        Action.doc_edit,
        Action.video_join,
        Action.journal_post,
        Action.journal_react,
    },
}


@dataclass(frozen=True, slots=True)
class Member:
    """What the policy needs to know: who, in which role, in a project of which status."""

    user_id: int
    project_id: int
    role: Role
    project_status: ProjectStatus
    is_founder: bool = False


def role_allows(role: Role, action: Action) -> bool:
    return action in PERMISSIONS[role]


def status_allows(status: ProjectStatus, role: Role, action: Action) -> bool:
    if status is ProjectStatus.closed:
        return role is Role.teacher_admin
    if status is ProjectStatus.archived:
        # A school answers access and erasure requests about archived projects too.
        return action in READ_ACTIONS or action in (Action.project_manage, Action.privacy_manage)
    return True


def can(member: Member, action: Action) -> bool:
    return role_allows(member.role, action) and status_allows(
        member.project_status, member.role, action
    )


def require(member: Member, action: Action) -> None:
    """Raise the error that tells the client *why* it may not: status first, then role."""
    if can(member, action):
        return
    if member.project_status is ProjectStatus.closed:
        raise AppError(ErrorCode.project_closed)
    if member.project_status is ProjectStatus.archived and role_allows(member.role, action):
        raise AppError(ErrorCode.read_only)
    raise AppError(ErrorCode.forbidden, f"Your role ({member.role.value}) may not {action.value}.")


def roles_for_account(is_pupil: bool) -> frozenset[Role]:
    """Pupil accounts hold pupil roles only, teacher accounts teacher roles only."""
    return PUPIL_ROLES if is_pupil else TEACHER_ROLES


def matrix_markdown() -> str:
    roles = list(Role)
    lines = [
        "# Roles and permissions",
        "",
        "Generated from `twinspace_rt/auth/policy.py` by `twinspace-rt docs roles`; "
        "a test fails when this file and the code differ.",
        "",
        "Every check in the server (REST and WebSocket) is `policy.can(member, action)`.",
        "",
        "| action | meaning | " + " | ".join(f"`{r.value}`" for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for action in Action:
        cells = " | ".join("yes" if role_allows(r, action) else "–" for r in roles)
        lines.append(f"| `{action.value}` | {ACTION_NOTES[action]} | {cells} |")
    lines += [
        "",
        "## Project status",
        "",
        "- `active`: the table above applies.",
        "- `archived`: read-only for everyone. Only these actions remain: "
        + ", ".join(f"`{a.value}`" for a in Action if a in READ_ACTIONS)
        + "; and `project.manage` for teacher administrators, so they can reopen it, and "
        "`privacy.manage`, so they can answer access and erasure requests.",
        "- `closed`: nobody but teacher administrators may enter; they keep their full rights.",
        "",
        "## Accounts and roles",
        "",
        "- Teacher accounts hold teacher roles: "
        + ", ".join(f"`{r.value}`" for r in Role if r in TEACHER_ROLES)
        + ".",
        "- Pupil accounts (created by a teacher administrator, no e-mail) hold pupil roles: "
        + ", ".join(f"`{r.value}`" for r in Role if r in PUPIL_ROLES)
        + ", and belong to exactly one project.",
        "- The founder of a project is a `teacher_admin` whom nobody else can demote or remove; "
        "a project always keeps at least one `teacher_admin`.",
        "",
    ]
    return "\n".join(lines)
