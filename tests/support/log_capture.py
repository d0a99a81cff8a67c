"""What the server logged while a test ran, to prove refused input logs no traceback.

uvicorn's loggers do not propagate to the root logger (pytest's ``caplog`` sees nothing of
them), so the handler is attached to both. A server started inside ``recorded()`` replaces the
uvicorn logger's handlers when it configures logging: `serve` then calls `reattach`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

_LOGGERS = ("", "uvicorn")
_ACTIVE: list[Recorder] = []


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
    _ACTIVE.append(recorder)
    try:
        yield recorder
    finally:
        _ACTIVE.remove(recorder)
        for logger in loggers:
            logger.removeHandler(recorder)


def reattach() -> None:
    """Puts every active recorder back on the loggers after uvicorn configured them."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        for recorder in _ACTIVE:
            if recorder not in logger.handlers:
                logger.addHandler(recorder)
