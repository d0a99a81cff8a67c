"""How features plug into the hub: their request types, their pushes, and hooks at named points
of a socket's and the node's life.

The hub core knows no feature. At application start each feature registers itself here, the way
routes are registered with Starlette and extensions with Hocuspocus: a request type is a pydantic
model whose ``type`` field is a ``Literal`` (its name on the wire), with the handler that answers
it. The hub validates every request against the union of the registered models, so an unknown
type and a malformed one are refused the same way, before any handler runs.
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field, TypeAdapter

from twinspace_rt.auth.policy import Action
from twinspace_rt.hub.request import Request

if TYPE_CHECKING:
    from twinspace_rt.hub.connection import Connection
    from twinspace_rt.hub.hub import Hub

# Answers one request; the returned fields go into its ``ack``.
Handler = Callable[["Hub", "Connection", Any], Awaitable[dict[str, Any]]]
# After a socket left its project room (video signaling marks its seat as reconnecting).
LeaveHook = Callable[["Hub", "Connection"], Awaitable[None]]
# A presence place of the feature's kind (a channel, a document, by its name): who may see its
# name, as sets of actions of which any one set, held whole, lets a member see it (a pupils'
# channel: chat.pupil_channel or chat.read_pupil_channel; a teachers-only draft page's document:
# page.read_drafts and page.read_staff); empty: everyone. None: this member cannot be there.
PlaceHook = Callable[["Hub", "Connection", str], Awaitable[list[tuple[Action, ...]] | None]]
# When the node starts or stops (a feature's writer, timers).
LifecycleHook = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class RequestType:
    name: str
    model: type[Request]
    handler: Handler
    feature: str


@dataclass(frozen=True)
class PushType:
    name: str
    summary: str
    feature: str


def request_name(model: type[Request]) -> str:
    """The wire name a model declares in its ``type: Literal["..."]`` field."""
    field = model.model_fields.get("type")
    args = typing.get_args(field.annotation) if field is not None else ()
    if len(args) != 1 or not isinstance(args[0], str):
        raise TypeError(f'{model.__name__} needs a `type: Literal["name"]` field')
    return args[0]


class HubFeatures:
    """The registry: filled at application start, read on every request."""

    def __init__(self) -> None:
        self.requests: dict[str, RequestType] = {}
        self.pushes: dict[str, PushType] = {}
        self.on_leave: list[LeaveHook] = []
        self.on_start: list[LifecycleHook] = []
        self.on_stop: list[LifecycleHook] = []
        self.places: dict[str, PlaceHook] = {}

    def request(self, feature: str, model: type[Request], handler: Handler) -> None:
        name = request_name(model)
        if name in self.requests:
            raise ValueError(f"hub request {name!r} is registered twice")
        self.requests[name] = RequestType(name, model, handler, feature)
        self.__dict__.pop("adapter", None)

    def push(self, feature: str, name: str, summary: str) -> None:
        """Declares a frame the server pushes (documented in docs/PROTOCOL.md)."""
        if name in self.pushes:
            raise ValueError(f"hub push {name!r} is registered twice")
        self.pushes[name] = PushType(name, summary, feature)

    def place(self, kind: str, hook: PlaceHook) -> None:
        """Says who may see the names of the feature's places in presence (`hub/presence.py`)."""
        self.places[kind] = hook

    @cached_property
    def adapter(self) -> TypeAdapter[Any]:
        """Validates a decoded frame against every registered request, by its ``type``."""
        models = tuple(r.model for r in self.requests.values())
        # A union built at run time from what features registered: no static type to name.
        union: Any = Union[models]  # noqa: UP007
        return TypeAdapter(Annotated[union, Field(discriminator="type")])

    def handler(self, name: str) -> Handler:
        return self.requests[name].handler
