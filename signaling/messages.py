"""The ``rtc.*`` requests of the hub socket; they join the hub's one discriminated union."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from twinspace_rt.hub.request import Request, RowId

# An INTEGER column: a larger id would fail in the database (found by tests/fuzz/hub_json.py).
ParticipantId = RowId


class RtcStart(Request):
    """``publish``: who may turn on camera and screen: everyone, or moderators only."""

    type: Literal["rtc.start"]
    lobby: bool = False
    # Capped by the topology's maximum (`rtc_mesh_max`, or `rtc_sfu_max` on the SFU).
    max_participants: Annotated[int, Field(ge=2, le=500)] | None = None
    publish: Literal["everyone", "moderators"] = "everyone"


class RtcState(Request):
    type: Literal["rtc.state"]


class RtcJoin(Request):
    type: Literal["rtc.join"]


class Description(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    type: Literal["offer", "answer"]
    sdp: str


class Candidate(BaseModel):
    """An ``RTCIceCandidateInit``; an empty ``candidate`` marks the end of candidates."""

    model_config = ConfigDict(extra="forbid", strict=True)

    candidate: str
    sdpMid: Annotated[str, StringConstraints(max_length=32)] | None = None  # noqa: N815
    sdpMLineIndex: Annotated[int, Field(ge=0, le=255)] | None = None  # noqa: N815
    # Browsers' `candidate.toJSON()` carries it; relayed as is.
    usernameFragment: Annotated[str, StringConstraints(max_length=256)] | None = None  # noqa: N815


class RtcSignal(Request):
    type: Literal["rtc.signal"]
    to: ParticipantId
    description: Description | None = None
    candidate: Candidate | None = None

    @model_validator(mode="after")
    def _one_payload(self) -> RtcSignal:
        if (self.description is None) == (self.candidate is None):
            raise ValueError("send exactly one of `description` and `candidate`")
        return self


class RtcMedia(Request):
    type: Literal["rtc.media"]
    mic: bool | None = None
    camera: bool | None = None
    screen: bool | None = None


class RtcHand(Request):
    type: Literal["rtc.hand"]
    raised: bool


class RtcLeave(Request):
    type: Literal["rtc.leave"]


class RtcEnd(Request):
    type: Literal["rtc.end"]


class RtcAdmit(Request):
    type: Literal["rtc.admit"]
    participant_id: ParticipantId


class RtcMute(Request):
    """One participant (``participant_id``) or, without it, everyone but the moderator."""

    type: Literal["rtc.mute"]
    participant_id: ParticipantId | None = None
    mic: bool = True
    camera: bool = False


class RtcLock(Request):
    """Locks (or unlocks) the microphones or cameras of everyone who may not moderate."""

    type: Literal["rtc.lock"]
    mic: bool | None = None
    camera: bool | None = None


class RtcRemove(Request):
    type: Literal["rtc.remove"]
    participant_id: ParticipantId


# A participant's feeds on the SFU: the camera (with the microphone) and a screen share.
FeedSource = Literal["camera", "screen"]


class RtcPublish(Request):
    """SFU sessions: the participant's offer to publish its camera and microphone, or its
    screen (``source``), a second feed of its own."""

    type: Literal["rtc.publish"]
    description: Description
    source: FeedSource = "camera"


class RtcUnpublish(Request):
    type: Literal["rtc.unpublish"]
    source: FeedSource = "camera"


class RtcSubscribe(Request):
    """SFU sessions: receive one participant's feed; the ack carries the SFU's offer."""

    type: Literal["rtc.subscribe"]
    participant_id: ParticipantId
    source: FeedSource = "camera"


class RtcLayer(Request):
    """SFU sessions: the simulcast layer one subscription receives: ``substream`` 0 (lowest
    resolution) to 2, and up to which ``temporal`` layer (0-2; absent: all)."""

    type: Literal["rtc.layer"]
    subscription: RowId
    substream: Annotated[int, Field(ge=0, le=2)]
    temporal: Annotated[int, Field(ge=0, le=2)] | None = None


class RtcAnswer(Request):
    """SFU sessions: the answer to a subscription's offer."""

    type: Literal["rtc.answer"]
    subscription: RowId
    description: Description


class RtcUnsubscribe(Request):
    type: Literal["rtc.unsubscribe"]
    subscription: RowId


# At most this many breakout groups, each named by its number (1, 2, ...).
BREAKOUT_MAX = 20


class RtcBreakout(Request):
    """SFU sessions: splits the session into breakout groups, either by hand (``groups``: the
    participant ids of each group; those not named stay in the main room) or automatically
    (``count`` groups, every participant who may not moderate, mixed by school)."""

    type: Literal["rtc.breakout"]
    groups: (
        Annotated[
            list[Annotated[list[ParticipantId], Field(min_length=1, max_length=500)]],
            Field(min_length=1, max_length=BREAKOUT_MAX),
        ]
        | None
    ) = None
    count: Annotated[int, Field(ge=1, le=BREAKOUT_MAX)] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RtcBreakout:
        if (self.groups is None) == (self.count is None):
            raise ValueError("send exactly one of `groups` and `count`")
        return self


class RtcVisit(Request):
    """A moderator moves into one breakout group (``group``), or back to the main room (null)."""

    type: Literal["rtc.visit"]
    group: Annotated[int, Field(ge=1, le=BREAKOUT_MAX)] | None = None


class RtcRecall(Request):
    """Calls everyone back to the main room; the groups' rooms close."""

    type: Literal["rtc.recall"]


class RtcBroadcast(Request):
    """A moderator's message to every group and the main room."""

    type: Literal["rtc.broadcast"]
    text: Annotated[str, StringConstraints(min_length=1, max_length=1000, strip_whitespace=True)]
