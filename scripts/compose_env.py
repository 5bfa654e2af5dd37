"""Print a ``compose.env`` for docker-compose.yml, with fresh random secrets: ``make compose.env``.

Standard library only, so it runs before anything is installed. Each secret is
URL-safe, so it can sit in the MongoDB URI as it is.
"""

from __future__ import annotations

import secrets
import sys


def main() -> None:
    root, app, key = (secrets.token_urlsafe(32) for _ in range(3))
    lines = [
        "# Secrets for docker-compose.yml; keep this file private (made by `make compose.env`).",
        "MONGO_INITDB_ROOT_USERNAME=root",
        f"MONGO_INITDB_ROOT_PASSWORD={root}",
        # Members of a replica set with authentication prove themselves with a shared key.
        f"MONGO_REPLICA_KEY={secrets.token_urlsafe(96)}",
        "MONGO_GATEWAY_USER=gateway",
        f"MONGO_GATEWAY_PASSWORD={app}",
        "GATEWAY_MONGODB_URI=mongodb://gateway:"
        f"{app}@mongo:27017/gateway?authSource=admin&replicaSet=rs0",
        f"GATEWAY_JWT_SECRET={secrets.token_urlsafe(48)}",
        f"GATEWAY_METRICS_TOKEN={key}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
