"""A small blocking HTTP client for setting up scenarios and reading the gateway's metrics."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Reply", "call", "db_commands", "graphql", "graphql_body"]

_TIMEOUT = 60.0
# The application's commands only: the change feed's (source="live") poll all the time.
_DB_COMMAND = re.compile(
    r'^gateway_db_commands_total\{collection="([^"]*)",command="([^"]*)",source="app"\} (\S+)$',
    re.MULTILINE,
)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: its status, its whole body, and its headers (names in lower case)."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def call(
    base_url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """Send one request to ``base_url`` and read the whole answer, whatever its status."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, _TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, response.read(), headers)
    finally:
        connection.close()


def graphql_body(query: str, variables: Mapping[str, Any] | None = None) -> bytes:
    """The JSON body of a GraphQL request."""
    payload: dict[str, Any] = {"query": query}
    if variables:
        payload["variables"] = dict(variables)
    return json.dumps(payload).encode()


def graphql(
    base_url: str, query: str, token: str | None = None, variables: Mapping[str, Any] | None = None
) -> Reply:
    """POST a GraphQL query to ``/graphql``, signed in when ``token`` is given."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return call(base_url, "POST", "/graphql", graphql_body(query, variables), headers)


def db_commands(base_url: str, token: str) -> dict[str, float]:
    """The gateway's database command counters, keyed ``collection.command``, from /metrics
    (``token``: the gateway's ``GATEWAY_METRICS_TOKEN``): those of the application (requests),
    not the change feed's, whose polls would fall inside any request measured."""
    reply = call(base_url, "GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
    if reply.status != 200:
        raise SystemExit(f"GET /metrics answered {reply.status}: no command counts")
    return {
        f"{collection}.{command}": float(value)
        for collection, command, value in _DB_COMMAND.findall(reply.body.decode())
    }
