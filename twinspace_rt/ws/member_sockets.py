"""The cap on one member's open sockets on this node, hub and Yjs together."""

from __future__ import annotations

from twinspace_rt.errors import AppError, ErrorCode


class MemberSockets:
    """How many hub and Yjs sockets each member holds on this node, against a cap: each one
    costs memory and a share of every broadcast, and a member has no use for dozens."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._held: dict[int, int] = {}

    def claim(self, user_id: int) -> None:
        """Counts one more socket, or refuses it; each claim is ended by ``release``."""
        held = self._held.get(user_id, 0)
        if held >= self.cap:
            raise AppError(
                ErrorCode.too_many_sockets,
                f"At most {self.cap} connections per member: close another tab or device.",
            )
        self._held[user_id] = held + 1

    def release(self, user_id: int) -> None:
        held = self._held.pop(user_id, 0) - 1
        if held > 0:
            self._held[user_id] = held
