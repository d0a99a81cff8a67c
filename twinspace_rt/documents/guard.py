"""Client bytes into pycrdt: the checks they pass, and the guard around every call taking them.

Yrs is Rust: where it panics, pyo3 raises ``PanicException``, which derives from
``BaseException`` and so passes every ``except Exception``. A mutated 24-byte update that
`get_state` decoded panicked on apply, escaped into the shared writer and stopped every
document of every project (issue 12). So every call that hands client bytes to pycrdt runs
inside `refusing`, which turns anything but cancellation and exit into `BadUpdate`, and an
update is logged only once `Proof` has applied it to a scratch replica of its document.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

from pycrdt import Doc, get_state

from twinspace_rt.documents.update_format import UpdateFormatError, check, check_state_vector

# What must never be swallowed: the task is being cancelled, or the process is leaving.
PASS_THROUGH = (asyncio.CancelledError, KeyboardInterrupt, SystemExit, GeneratorExit)


class BadUpdate(ValueError):
    """Not a Yjs v1 update that applies: refused whole, nothing applied, stored or relayed."""


@contextlib.contextmanager
def refusing(what: str) -> Iterator[None]:
    """Runs a pycrdt call on client bytes; any failure of it, a panic included, is `BadUpdate`."""
    try:
        yield
    except (BadUpdate, *PASS_THROUGH):
        raise
    except UpdateFormatError as exc:
        raise BadUpdate(f"{what}: {exc}") from exc
    except BaseException as exc:  # noqa: B036 - pyo3's PanicException is a BaseException
        raise BadUpdate(f"{what} does not apply ({type(exc).__name__})") from exc


def check_update(update: bytes) -> None:
    """Reads the whole update with limits, then lets pycrdt decode it: refused whole if either
    fails."""
    with refusing("the update"):
        check(update)
        get_state(update)


def check_vector(vector: bytes) -> None:
    with refusing("the state vector"):
        check_state_vector(vector)


def apply(doc: Doc[Any], update: bytes, what: str = "the update") -> None:
    """Checks and applies; a failure is `BadUpdate`. After a panic the replica may hold part of
    the update: callers that keep the replica rebuild it (see `Proof`, `store.replay`)."""
    check_update(update)
    with refusing(what):
        doc.apply_update(update)


def diff_against(doc: Doc[Any], vector: bytes) -> bytes:
    """What ``doc`` holds that a peer with state vector ``vector`` lacks (sync step 2)."""
    check_vector(vector)
    with refusing("the state vector"):
        return doc.get_update(vector)


class Proof:
    """A scratch replica of one document: each update is applied here before it is logged.

    It holds the room's replica's content plus every update proven here that the replica has
    not applied yet (``pending``: it is being committed). An update that fails here is refused;
    the scratch replica is then rebuilt, since a panic may have left part of the update in it.
    Updates from other nodes reach it through `applied`, like the replica.
    """

    def __init__(self, replica: Doc[Any]) -> None:
        self._replica = replica
        self._scratch: Doc[Any] = Doc()
        self._pending: Counter[bytes] = Counter()

    def reset(self) -> None:
        """Copies the replica (after a load or a reload) and forgets nothing pending."""
        scratch: Doc[Any] = Doc()
        with refusing("the document"):
            scratch.apply_update(self._replica.get_update())
        for update in list(self._pending):
            try:
                apply(scratch, update)
            except BadUpdate:
                del self._pending[update]
        self._scratch = scratch

    def prove(self, update: bytes) -> None:
        try:
            apply(self._scratch, update)
        except BadUpdate:
            self.reset()
            raise
        self._pending[update] += 1

    def dropped(self, update: bytes) -> None:
        """A proven update could not be stored: the replica will never apply it."""
        self._settle(update)
        self.reset()

    def applied(self, update: bytes) -> None:
        """The replica applied ``update``: from this node (proven here) or from another."""
        if self._settle(update):
            return
        try:
            apply(self._scratch, update)
        except BadUpdate:
            self.reset()

    def _settle(self, update: bytes) -> bool:
        if not self._pending[update]:
            del self._pending[update]
            return False
        self._pending[update] -= 1
        if not self._pending[update]:
            del self._pending[update]
        return True
