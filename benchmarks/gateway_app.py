"""The gateway as an ASGI module for uvicorn's command line, configured like ``gateway serve``."""

from __future__ import annotations

from gateway.app import create_app
from gateway.config import load_settings
from gateway.logs import configure_logging
from gateway.runtime import tune_garbage_collector

__all__ = ["app"]

_settings = load_settings()
configure_logging(_settings)
app = create_app(_settings)
tune_garbage_collector()
