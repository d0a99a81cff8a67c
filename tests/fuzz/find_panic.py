"""Finds a Yjs update that pycrdt decodes but panics on when applied; writes it as a fixture.

How issue 12's update was found: take a valid update that inserts two characters into a
document, flip three of its bytes, and keep the first mutation that `get_state` accepts (so a
decode check lets it through) but whose `apply_update` raises pyo3's `PanicException`, on a
fresh replica or on one holding the document's earlier content. Run it again with
`python -m tests.fuzz.find_panic` to refresh `panic.json` after a pycrdt upgrade.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from pycrdt import Doc, Text, get_state

FIXTURE = Path(__file__).parent / "panic.json"
CLIENT = 3725381291  # a stock client's 32-bit id: five bytes as a varint
TRIES = 500_000


def _panics(base: bytes | None, update: bytes) -> bool:
    replica: Doc[Any] = Doc()
    try:
        if base is not None:
            replica.apply_update(base)
        replica.apply_update(update)
    except Exception:
        return False
    except BaseException as exc:  # noqa: B036 - PanicException is a BaseException
        return type(exc).__name__ == "PanicException"
    return False


def find(seed: int = 1) -> dict[str, str]:
    editor: Doc[Any] = Doc(client_id=CLIENT)
    text = editor.get("content", type=Text)
    text.insert(0, "abc")
    base = editor.get_update()
    before = editor.get_state()
    text.insert(1, "xy")  # two characters between two others: origin and right origin
    valid = editor.get_update(before)
    rng = random.Random(seed)
    for _ in range(TRIES):
        mutated = bytearray(valid)
        for position in rng.sample(range(len(valid)), 3):
            mutated[position] = rng.randrange(256)
        candidate = bytes(mutated)
        try:
            get_state(candidate)
        except Exception:
            continue
        for replica_base in (None, base):
            if _panics(replica_base, candidate):
                return {
                    "valid": valid.hex(),
                    "base": "" if replica_base is None else base.hex(),
                    "panics": candidate.hex(),
                }
    raise SystemExit(f"no panicking mutation in {TRIES} tries")


if __name__ == "__main__":
    found = find()
    FIXTURE.write_text(json.dumps(found, indent=2) + "\n")
    print(json.dumps(found))
