"""The hub's JSON requests, fuzzed against a real server (``tests/fuzz/hub_json.py``).

A fixed seed keeps the suite's run repeatable; ``make fuzz-hub`` runs far more inputs.
"""

from __future__ import annotations

import random

from tests.fuzz.hub_json import make_input, run
from twinspace_rt.settings import Settings

SEED = 20240613
INPUTS = 5000


def test_inputs_are_repeatable_and_varied() -> None:
    first = [make_input(random.Random(SEED), n) for n in range(1)]
    again = [make_input(random.Random(SEED), n) for n in range(1)]
    assert first == again
    rng = random.Random(SEED)
    sample = [make_input(rng, n) for n in range(2000)]
    assert any(isinstance(i, bytes) for i in sample), "invalid UTF-8 is among the inputs"
    assert any(isinstance(i, str) and "\\ud8" in i for i in sample), "and lone surrogates"
    assert any(isinstance(i, str) and "[[[[[[[[[[[[[[[[[[" in i for i in sample), "and nesting"


async def test_the_hub_survives_fuzzed_requests(settings: Settings) -> None:
    report = await run(settings, INPUTS, SEED)
    assert report.inputs == INPUTS
    # The inputs reach every layer: the parser, the validator and the handlers.
    assert report.replies["invalid_json"] > 0
    assert report.replies["validation_failed"] > 0
    assert report.replies["ack"] > 0
