"""Run ``nx-27017`` with one bounded log: ``python -m gateway.nx_27017_runner LOG_FILE ARGS...``.

The server's own ``main()`` logs every line twice (to standard error, which the
gateway sent to the log file, and again through a file handler of its own),
notes every connection and every command at INFO (each ``/readyz`` probe added
some 500 bytes), and repeats a warning on every query that takes a fallback
path. Here the log goes once to a size-bounded rotating file, the server logs
from WARNING up (the gateway itself logs where the server listens), and a
warning repeated word for word is written once. The server's own file handler
gets ``os.devnull``.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

__all__ = ["LOG_BACKUPS", "MAX_LOG_BYTES", "OnceFilter", "configure", "main"]

MAX_LOG_BYTES = 1024 * 1024
LOG_BACKUPS = 2
_REMEMBERED = 1000  # distinct repeated messages remembered


class OnceFilter(logging.Filter):
    """Drops warnings already written word for word (errors always pass)."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        message = record.getMessage()
        if message in self._seen:
            return False
        if len(self._seen) < _REMEMBERED:
            self._seen.add(message)
        return True


def configure(log_file: str) -> None:
    """Send every log record of this process to ``log_file``, rotated and filtered."""
    handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(OnceFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]  # the server's basicConfig then adds nothing
    root.setLevel(logging.WARNING)


def main(argv: list[str]) -> None:
    log_file, *server_args = argv
    configure(log_file)
    from nx_27017.nx_27017 import main as serve  # type: ignore[import-untyped]

    sys.argv = ["nx-27017", *server_args, "--log-file", os.devnull]
    serve()


if __name__ == "__main__":
    main(sys.argv[1:])
