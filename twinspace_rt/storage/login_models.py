"""Login history: each sign-in and failed sign-in of an account, so a member (or the teacher
administrator who answers for a pupil) can see when and from where their account was used.

Only what that needs is kept (docs/PRIVACY.md, "Login history"): the time, the outcome, the
address as the trusted-proxy configuration resolves it, and a coarse client description
("Firefox on Android", never the raw User-Agent with its versions). Rows go after
``retention_login_days`` and with the account.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel, String, UTCDateTime

from twinspace_rt.storage.models import utcnow
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare

ADDRESS_MAX = 64
CLIENT_MAX = 64


class LoginOutcome(StrEnum):
    ok = "ok"
    # The password was wrong.
    failed = "failed"
    # Refused by the throttle before the password was checked (too many failures).
    throttled = "throttled"


class LoginEvent(SQLModel, table=True):
    __tablename__ = "login_events"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    outcome: str = Field(sa_type=String(16))
    address: str = Field(default="", max_length=ADDRESS_MAX)
    client: str = Field(default="", max_length=CLIENT_MAX)


declare(
    TablePrivacy(
        "login_events",
        users={"user_id": Erase.delete_row},
        personal=("address", "client"),
        plain=("outcome",),
        scope=None,
        export="account",
        why="An account's sign-ins: kept retention_login_days, deleted with the account.",
    ),
)
