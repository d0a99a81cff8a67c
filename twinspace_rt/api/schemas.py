"""The REST wire format: what each endpoint accepts and returns (and what OpenAPI shows)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from twinspace_rt.auth.passwords import PASSWORD_MAX, PASSWORD_MIN
from twinspace_rt.auth.policy import Action, Member, ProjectStatus, Role, can
from twinspace_rt.chat.channels import ChannelRule
from twinspace_rt.projects.accounts import USERNAME_PATTERN
from twinspace_rt.storage.chat_models import Channel
from twinspace_rt.storage.models import (
    DESCRIPTION_MAX,
    NAME_MAX,
    USERNAME_MAX,
    AccountKind,
    AuditEntry,
    Membership,
    Project,
    User,
)

PUPIL_BATCH_MAX = 200


def _printable(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _multiline(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise ValueError("must not contain control characters other than newline and tab")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX),
    AfterValidator(_printable),
]
Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(_multiline)
]
Username = Annotated[str, StringConstraints(min_length=1, max_length=USERNAME_MAX)]
LoginPassword = Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX)]
NewPassword = Annotated[str, StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]


class Input(BaseModel):
    """Request bodies: strict types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class LoginIn(Input):
    username: Username
    password: LoginPassword


class RegisterIn(Input):
    username: Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
    password: NewPassword
    display_name: Name | None = None
    country: Country | None = None


class PasswordChangeIn(Input):
    current_password: LoginPassword
    new_password: NewPassword


class ProjectCreateIn(Input):
    name: Name
    description: Description = ""


class ProjectPatchIn(Input):
    name: Name | None = None
    description: Description | None = None
    status: ProjectStatus | None = None


class MemberInviteIn(Input):
    username: Username
    role: Role


class MemberPatchIn(Input):
    role: Role


class PupilsCreateIn(Input):
    """One pupil (`display_name`) or a class list (`display_names`), never both."""

    display_name: Name | None = None
    display_names: Annotated[list[Name], Field(min_length=1, max_length=PUPIL_BATCH_MAX)] | None = (
        None
    )
    role: Role = Role.pupil

    @model_validator(mode="after")
    def _one_of(self) -> PupilsCreateIn:
        if (self.display_name is None) == (self.display_names is None):
            raise ValueError("send exactly one of display_name or display_names")
        return self

    @property
    def names(self) -> list[str]:
        return (
            [self.display_name] if self.display_name is not None else list(self.display_names or [])
        )


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    kind: AccountKind
    country: str | None
    must_change_password: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        assert user.id is not None
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            kind=AccountKind(user.kind),
            country=user.country,
            must_change_password=user.must_change_password,
        )


class PasswordChangedOut(UserOut):
    """The account, and a fresh token for the session that changed the password: every other
    token of the account stopped working."""

    token: str
    expires_at: datetime


class TokenOut(BaseModel):
    token: str
    expires_at: datetime
    user: UserOut


class ProjectOut(BaseModel):
    id: int
    name: str
    description: str
    status: ProjectStatus
    founder_id: int
    created_at: datetime
    role: Role
    permissions: list[Action] = Field(description="What the caller may do here now.")

    @classmethod
    def of(cls, project: Project, member: Member) -> ProjectOut:
        assert project.id is not None
        return cls(
            id=project.id,
            name=project.name,
            description=project.description,
            status=ProjectStatus(project.status),
            founder_id=project.founder_id,
            created_at=project.created_at,
            role=member.role,
            permissions=[action for action in Action if can(member, action)],
        )


class ProjectListOut(BaseModel):
    projects: list[ProjectOut]


class MemberOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    kind: AccountKind
    country: str | None
    role: Role
    is_founder: bool
    joined_at: datetime

    @classmethod
    def of(cls, membership: Membership, user: User, project: Project) -> MemberOut:
        return cls(
            user_id=membership.user_id,
            username=user.username,
            display_name=user.display_name,
            kind=AccountKind(user.kind),
            country=user.country,
            role=Role(membership.role),
            is_founder=project.founder_id == membership.user_id,
            joined_at=membership.joined_at,
        )


class MemberListOut(BaseModel):
    members: list[MemberOut]


class PupilCredentialsOut(BaseModel):
    """Shown once: the server keeps only the password's hash."""

    user_id: int
    username: str
    display_name: str
    password: str


class PupilCredentialsListOut(BaseModel):
    pupils: list[PupilCredentialsOut]


class AuditEntryOut(BaseModel):
    id: int
    actor_id: int
    action: str
    target_user_id: int | None
    details: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        assert entry.id is not None
        return cls(
            id=entry.id,
            actor_id=entry.actor_id,
            action=entry.action,
            target_user_id=entry.target_user_id,
            details=entry.details,
            created_at=entry.created_at,
        )


class AuditListOut(BaseModel):
    entries: list[AuditEntryOut]
    next_before: int | None = Field(description="Pass as `before` for the next, older page.")


class ErrorBody(BaseModel):
    code: str
    message: str
    retry_after: int | None = None
    details: Any = None


class ErrorOut(BaseModel):
    error: ErrorBody


class StatusOut(BaseModel):
    status: str
    checks: dict[str, str] = {}


class ChannelCreateIn(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    title: Name
    rule: ChannelRule


class ChannelOut(BaseModel):
    name: str
    title: str
    rule: ChannelRule
    last_seq: int

    @classmethod
    def of(cls, channel: Channel) -> ChannelOut:
        return cls(
            name=channel.name,
            title=channel.title,
            rule=ChannelRule(channel.rule),
            last_seq=channel.last_seq,
        )


class ChannelListOut(BaseModel):
    channels: list[ChannelOut]
