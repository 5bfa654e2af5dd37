"""The import directions of DESIGN.md's rules of the house, read from the source with ``ast``.

* A door never imports the other: ``rest`` is one door, ``schema`` with
  ``resolvers`` the other (those two may import each other).
* The core (``gateway/``) imports no door, except the assembly (``gateway/app.py``),
  which takes only the doors' public exports (their packages, no inner module).
* A service (``gateway/services/``) imports no door and no web framework.
* The database layer (``gateway/db.py``, ``gateway/embedded.py``) imports no service.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gateway", "rest", "resolvers", "schema")

DOORS = {"rest": "rest", "resolvers": "graphql", "schema": "graphql"}
ASSEMBLY = {"gateway.app"}
DATABASE = {"gateway.db", "gateway.embedded"}
FRAMEWORKS = ("litestar", "strawberry", "graphql")


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _door(module: str) -> str | None:
    return DOORS.get(module.split(".")[0])


def violation(importer: str, imported: str) -> str | None:
    """What ``importer`` importing ``imported`` breaks (both dotted module names), if anything."""
    door, target_door = _door(importer), _door(imported)
    if door is not None:
        if target_door is not None and target_door != door:
            return f"the {door} door imports the {target_door} door"
        return None
    if not _within(importer, "gateway"):
        return None
    if importer in ASSEMBLY:
        if target_door is not None and "." in imported:
            return "the assembly imports a door's inner module, not its public exports"
        return None
    if target_door is not None:
        return f"the core imports the {target_door} door"
    if _within(importer, "gateway.services"):
        framework = next((f for f in FRAMEWORKS if _within(imported, f)), None)
        if framework is not None:
            return f"a service imports {framework}"
    if importer in DATABASE and _within(imported, "gateway.services"):
        return "the database layer imports a service"
    return None


def imports_of(
    source: str, module: str, modules: Collection[str], *, is_package: bool = False
) -> Iterator[str]:
    """The modules ``module``'s source imports, anywhere in it (functions and
    ``TYPE_CHECKING`` blocks too), relative imports made absolute; for
    ``from package import name``, ``package`` and, if ``modules`` holds it, ``package.name``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # "from ..db import x" in gateway.services.users: gateway.db
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            yield base
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    yield f"{base}.{alias.name}"


def _modules() -> Iterator[tuple[str, Path, bool]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            yield ".".join(parts[:-1] if is_package else parts), path, is_package


def test_the_tree_is_read() -> None:
    names = {name for name, _, _ in _modules()}
    assert {"gateway.app", "gateway.db", "gateway.services", "rest", "resolvers.context"} <= names


def test_no_module_imports_against_the_layering() -> None:
    tree = list(_modules())
    names = {name for name, _, _ in tree}
    found = [
        f"{module} imports {imported}: {broken}"
        for module, path, is_package in tree
        for imported in imports_of(path.read_text(), module, names, is_package=is_package)
        if (broken := violation(module, imported)) is not None
    ]
    assert found == []


@pytest.mark.parametrize(
    ("importer", "imported", "broken"),
    [
        ("rest.users", "resolvers.context", "the rest door imports the graphql door"),
        ("resolvers.controller", "rest.errors", "the graphql door imports the rest door"),
        ("schema.types", "rest", "the graphql door imports the rest door"),
        ("gateway.http", "rest._http", "the core imports the rest door"),
        ("gateway.cli", "resolvers", "the core imports the graphql door"),
        ("gateway.services.users", "schema.types", "the core imports the graphql door"),
        ("gateway.services.files", "litestar.datastructures", "a service imports litestar"),
        ("gateway.services", "strawberry", "a service imports strawberry"),
        ("gateway.services.auth", "graphql.error", "a service imports graphql"),
        ("gateway.db", "gateway.services.users", "the database layer imports a service"),
        ("gateway.embedded", "gateway.services", "the database layer imports a service"),
        (
            "gateway.app",
            "rest._http",
            "the assembly imports a door's inner module, not its public exports",
        ),
    ],
)
def test_a_forbidden_import_is_named(importer: str, imported: str, broken: str) -> None:
    assert violation(importer, imported) == broken


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("resolvers.context", "schema.types"),  # one door, two packages
        ("schema.errors", "resolvers.negotiation"),
        ("rest.users", "gateway.http"),
        ("resolvers.context", "gateway.services"),
        ("gateway.app", "rest"),
        ("gateway.app", "resolvers"),
        ("gateway.http", "litestar"),  # the core's HTTP module is not a service
        ("gateway.services.users", "gateway.db"),
        ("gateway.db", "gateway.errors"),
        ("gateway.graphql_tools", "gateway.errors"),  # a name that merely starts alike
    ],
)
def test_an_allowed_import_passes(importer: str, imported: str) -> None:
    assert violation(importer, imported) is None


MODULES = {"rest", "rest.errors", "gateway.db", "gateway.services", "gateway.services.users"}


@pytest.mark.parametrize(
    ("source", "module", "is_package", "expected"),
    [
        ("import rest.errors", "resolvers.controller", False, {"rest.errors"}),
        ("from rest import errors", "resolvers.controller", False, {"rest", "rest.errors"}),
        ("from rest import route_handlers", "gateway.app", False, {"rest"}),
        (
            "from .services import users",
            "gateway.db",
            False,
            {"gateway.services", "gateway.services.users"},
        ),
        (
            "from . import users",
            "gateway.services",
            True,
            {"gateway.services", "gateway.services.users"},
        ),
        ("from ..db import Database", "gateway.services.users", False, {"gateway.db"}),
        (
            "def later():\n    from litestar import Request\n",
            "gateway.services.users",
            False,
            {"litestar"},
        ),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import strawberry\n",
            "gateway.services.users",
            False,
            {"typing", "strawberry"},
        ),
    ],
)
def test_every_import_is_seen(
    source: str, module: str, is_package: bool, expected: set[str]
) -> None:
    assert set(imports_of(source, module, MODULES, is_package=is_package)) == expected


def test_a_violation_in_source_is_caught() -> None:
    source = "from gateway.errors import NotFound\nfrom .services.users import UserService\n"
    found = [
        broken
        for imported in imports_of(source, "gateway.db", MODULES)
        if (broken := violation("gateway.db", imported)) is not None
    ]
    assert found == ["the database layer imports a service"]
