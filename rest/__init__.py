"""The legacy REST front door: thin controllers over the shared services."""

from litestar.handlers import HTTPRouteHandler
from litestar.types import ControllerRouterHandler

from gateway.config import Settings
from rest.auth import login, protected
from rest.contact import submit_contact
from rest.errors import exception_handlers
from rest.files import FileController
from rest.health import healthz, readyz
from rest.hello import HelloController
from rest.metrics import metrics
from rest.openapi import openapi_config
from rest.product_events import product_events
from rest.products import ProductController
from rest.upload import upload_route
from rest.users import UserController

__all__ = ["exception_handlers", "openapi_config", "route_handlers"]


def route_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    upload: HTTPRouteHandler = upload_route(settings.max_upload_bytes)
    return [
        HelloController,
        UserController,
        ProductController,
        product_events,
        FileController,
        upload,
        submit_contact,
        login,
        protected,
        healthz,
        readyz,
        metrics,
    ]
