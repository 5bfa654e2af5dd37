"""Write the schema's SDL to ``schema.graphql``: ``python -m schema.export`` (``--check``: compare).

The one module of ``schema`` that imports ``resolvers``: the root types live there.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from gateway.config import Settings
from resolvers import graphql_schema

__all__ = ["SDL_PATH", "main", "sdl"]

SDL_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def sdl() -> str:
    """The printed schema (limits and other settings do not change it)."""
    return graphql_schema(Settings()).as_str() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``schema.graphql``, or with ``--check`` exit 1 if it is out of date."""
    parser = argparse.ArgumentParser(prog="python -m schema.export", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args(argv)
    current = sdl()
    if args.check:
        if not SDL_PATH.is_file() or SDL_PATH.read_text(encoding="utf-8") != current:
            print(f"{SDL_PATH.name} is out of date: run python -m schema.export", file=sys.stderr)
            return 1
        return 0
    SDL_PATH.write_text(current, encoding="utf-8")
    print(f"wrote {SDL_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
