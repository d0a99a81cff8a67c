"""What the server logged while a test ran, to prove refused input logs no traceback.

uvicorn's loggers do not propagate to the root logger (pytest's ``caplog`` sees nothing of
them), so the handler is attached to both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

_LOGGERS = ("", "uvicorn")


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> list[str]:
        """Each record that carries a traceback, formatted, so a failure shows it."""
        formatter = logging.Formatter("%(name)s: %(message)s")
        return [formatter.format(r) for r in self.records if r.exc_info or r.stack_info]


@contextmanager
def recorded() -> Iterator[Recorder]:
    recorder = Recorder()
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for logger in loggers:
        logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        for logger in loggers:
            logger.removeHandler(recorder)
