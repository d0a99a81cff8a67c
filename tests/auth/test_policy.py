"""The permission table, walked for every role, action and project status."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinspace_rt.auth.policy import (
    Action,
    Member,
    ProjectStatus,
    Role,
    can,
    matrix_markdown,
)

pytestmark = pytest.mark.one_pass  # no database at all

ROOT = Path(__file__).resolve().parents[2]

# Written out by hand from TwinSpace's roles, independently of the table in the code.
EXPECTED_ACTIVE: dict[Role, set[str]] = {
    Role.teacher_admin: {a.value for a in Action} - {"chat.pupil_channel"},
    Role.teacher: {
        "project.view",
        "audit.read",
        "chat.read",
        "chat.send",
        "chat.moderate",
        "chat.read_pupil_channel",
        "chat.write_pupil_channel",
        "chat.staff_room",
        "forum.read",
        "forum.create_thread",
        "forum.reply",
        "forum.moderate",
        "bulletin.read",
        "bulletin.post",
        "doc.read",
        "doc.edit",
        "doc.manage",
        "video.join",
        "video.share_screen",
        "video.moderate",
        "content.report",
        "page.read",
        "page.read_drafts",
        "page.read_staff",
        "page.edit",
        "journal.read",
        "journal.post",
        "journal.react",
        "journal.moderate",
        "materials.read",
        "materials.upload",
        "materials.manage",
        "materials.review",
    },
    Role.expert: {
        "project.view",
        "content.report",
        "chat.read",
        "chat.send",
        "forum.read",
        "forum.create_thread",
        "forum.reply",
        "doc.read",
        "doc.edit",
        "video.join",
        "video.share_screen",
        "page.read",
        "page.read_staff",
        "journal.read",
        "journal.post",
        "journal.react",
        "materials.read",
        "materials.upload",
        "materials.manage",
    },
    Role.observer: {
        "project.view",
        "chat.read",
        "forum.read",
        "doc.read",
        "video.join",
        "content.report",
        "page.read",
        "page.read_staff",
        "journal.read",
        "materials.read",
        "materials.upload",
    },
    Role.pupil_admin: {
        "project.view",
        "content.report",
        "chat.read",
        "chat.pupil_channel",
        "chat.send",
        "forum.read",
        "forum.create_thread",
        "forum.reply",
        "doc.read",
        "doc.edit",
        "doc.manage",
        "video.join",
        "video.share_screen",
        "page.read",
        "page.read_drafts",
        "page.edit",
        "journal.read",
        "journal.post",
        "journal.react",
        "materials.read",
        "materials.upload",
    },
    Role.pupil: {
        "project.view",
        "content.report",
        "chat.read",
        "chat.pupil_channel",
        "chat.send",
        "forum.read",
        "forum.reply",
        "doc.read",
        "doc.edit",
        "video.join",
        "page.read",
        "journal.read",
        "journal.post",
        "journal.react",
        "materials.read",
        "materials.upload",
    },
}
READS = {
    "project.view",
    "audit.read",
    "chat.read",
    "chat.read_pupil_channel",
    "chat.staff_room",
    "chat.pupil_channel",
    "forum.read",
    "bulletin.read",
    "doc.read",
    "page.read",
    "page.read_drafts",
    "page.read_staff",
    "journal.read",
    "materials.read",
}


def expected(role: Role, action: Action, status: ProjectStatus) -> bool:
    allowed = action.value in EXPECTED_ACTIVE[role]
    if status is ProjectStatus.closed:
        return allowed and role is Role.teacher_admin
    if status is ProjectStatus.archived:
        return allowed and (
            action.value in READS or action in (Action.project_manage, Action.privacy_manage)
        )
    return allowed


def test_every_issue_action_is_in_the_table() -> None:
    named = {
        "members.manage",
        "pupils.create",
        "chat.send",
        "chat.moderate",
        "chat.read_pupil_channel",
        "chat.write_pupil_channel",
        "forum.create_thread",
        "forum.reply",
        "forum.moderate",
        "doc.read",
        "doc.edit",
        "doc.manage",
        "video.start",
        "video.join",
        "video.moderate",
        "project.manage",
        "page.manage",
        "page.edit",
        "journal.post",
        "journal.moderate",
        "showcase.manage",
        "materials.upload",
        "materials.manage",
        "materials.review",
    }
    assert named <= {a.value for a in Action}


@pytest.mark.parametrize("status", list(ProjectStatus))
@pytest.mark.parametrize("role", list(Role))
def test_every_role_and_action(role: Role, status: ProjectStatus) -> None:
    member = Member(user_id=1, project_id=1, role=role, project_status=status)
    for action in Action:
        assert can(member, action) is expected(role, action, status), (role, action, status)


def test_pupils_never_administer_moderate_or_enter_the_staff_room() -> None:
    adult_only = {
        "project.manage",
        "members.manage",
        "pupils.create",
        "audit.read",
        "chat.moderate",
        "chat.manage_channels",
        "chat.read_pupil_channel",
        "chat.write_pupil_channel",
        "chat.staff_room",
        "forum.manage",
        "forum.moderate",
        "bulletin.read",
        "bulletin.post",
        "video.start",
        "video.moderate",
    }
    for role in (Role.pupil, Role.pupil_admin):
        member = Member(1, 1, role, ProjectStatus.active)
        for action in Action:
            if action.value in adult_only:
                assert not can(member, action), (role, action)


def test_roles_doc_matches_the_code() -> None:
    doc = (ROOT / "docs" / "ROLES.md").read_text()
    assert doc == matrix_markdown(), "regenerate with: twinspace-rt docs roles > docs/ROLES.md"
