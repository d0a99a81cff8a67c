"""What every benchmark run shares: its overall deadline, waiting for a planned instant,
percentiles, and naming the code it measured."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType


def sleep_until(deadline_ns: int, clock: Callable[[], int] = time.time_ns) -> None:
    time.sleep(max(0.0, (deadline_ns - clock()) / 1e9))


def percentile(ordered: list[int], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def code_version() -> str:
    """The server code measured: the checkout's commit, marked if files were modified."""
    found = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=Path(__file__).resolve().parent,
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() or "unknown"


def _abort(signum: int, frame: FrameType | None) -> None:
    """Turns the overall timeout or SIGTERM into an exception, once, so that the clean-up that
    follows (stopping every server and worker) is not itself interrupted."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    raise TimeoutError(f"aborted by signal {signum}")


def abort_after(seconds: float) -> None:
    """From now on, SIGTERM or ``seconds`` elapsed raise ``TimeoutError`` in the main thread."""
    signal.signal(signal.SIGALRM, _abort)
    signal.signal(signal.SIGTERM, _abort)
    signal.alarm(int(seconds))


def cancel_abort() -> None:
    signal.alarm(0)
