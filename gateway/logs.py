"""Log formats: one JSON object a line (production), or readable lines (a developer's terminal).

One format per run, chosen by ``GATEWAY_LOG_FORMAT`` (by default JSON in
production, console in development) and set before anything is logged, so the
first line is in it too. uvicorn's loggers go through the same handler; its
access log is replaced by the gateway's own (``gateway.observability``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from gateway.config import Settings
from gateway.observability import current_request

__all__ = ["ConsoleFormatter", "JsonFormatter", "configure_logging"]


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's structured fields, with the id of the request being served."""
    fields: dict[str, Any] = {}
    info = current_request()
    if info is not None:
        fields["request_id"] = info.request_id
    fields.update(getattr(record, "fields", {}))
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served."""

    converter = staticmethod(time.gmtime)  # UTC, as the "Z" says

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    """``12:00:01 INFO  gateway.access  GET /api/products 200  status=200 ...``: local time,
    the message, then the structured fields as ``key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = self.formatTime(record, "%H:%M:%S")
        fields = " ".join(f"{key}={value}" for key, value in _fields(record).items())
        line = f"{stamp} {record.levelname:<7} {record.name}  {record.getMessage()}"
        if fields:
            line = f"{line}  {fields}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    json_lines = settings.log_format_chosen == "json"
    handler.setFormatter(JsonFormatter() if json_lines else ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our access log replaces uvicorn's (it knows the route, the subject and the request id).
    logging.getLogger("uvicorn.access").disabled = True
