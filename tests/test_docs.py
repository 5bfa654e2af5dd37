"""The documentation in the repository: links that lead somewhere, and an API page that
covers what the service serves.

* every relative link and image in the Markdown documents names a file inside the
  repository (a clone has nothing outside it), and every ``#anchor`` a heading;
* ``docs/API.md`` has a heading for each method and path the app serves, and no
  heading for one it does not; it gives every GraphQL query and mutation with its
  arguments and type as ``schema.graphql`` has them; every ``GATEWAY_*`` name it
  gives is a setting.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import msgspec
import pytest
from graphql import GraphQLField, build_schema

from gateway.app import create_app
from gateway.config import PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
API_PAGE = ROOT / "docs" / "API.md"
DOCUMENTS = sorted(
    {ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "docs").glob("*.md")}
)

_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# [text](target "title") and ![alt](<target with spaces>)
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*(?:<([^>\n]*)>|([^)\s]*))(?:\s+[\"'][^)]*[\"'])?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
_ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)(?:\?[^`]*)?`")
_PARAMETER = re.compile(r"\{[^}]*\}")


def _prose(text: str) -> str:
    """``text`` without fenced code blocks (their lines kept empty, so lines still count)."""
    return _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lower-cased, punctuation dropped,
    spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for heading in _HEADING.findall(_prose(document.read_text(encoding="utf-8"))):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _targets(document: Path) -> list[str]:
    """The targets of the document's links, images and link definitions."""
    prose = _CODE_SPAN.sub("", _prose(document.read_text(encoding="utf-8")))
    links = [bracketed or bare for bracketed, bare in _LINK.findall(prose)]
    return links + _REFERENCE.findall(prose)


def _problem(document: Path, target: str) -> str | None:
    """What is wrong with a relative link ``target`` of ``document``, or None."""
    if target.startswith("/"):
        return "a path from the server's root, not the repository's"
    path_part, _, anchor = target.partition("#")
    file = (document.parent / unquote(path_part)).resolve() if path_part else document
    if not file.is_relative_to(ROOT):
        return "leads outside the repository"
    if not file.exists():
        return "names no file of the repository"
    if anchor and file.suffix == ".md" and anchor not in _anchors(file):
        return f"names no heading of {file.relative_to(ROOT)}"
    return None


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_stay_inside_the_repository(document: Path) -> None:
    problems = [
        f"{target}: {problem}"
        for target in _targets(document)
        if not _SCHEME.match(target) and not target.startswith("//")
        if (problem := _problem(document, target)) is not None
    ]
    assert problems == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_paths_written_as_code_stay_inside_the_repository(document: Path) -> None:
    """A relative path in backticks (``../shared/CONTRACT.md``) points into the repository too."""
    spans = [span for _, span in _CODE_SPAN.findall(_prose(document.read_text(encoding="utf-8")))]
    outside = [
        span
        for span in spans
        if span.startswith("../") and not (document.parent / span).resolve().is_relative_to(ROOT)
    ]
    assert outside == []


def test_the_link_checker_sees_broken_links(tmp_path: Path) -> None:
    """The checks above would catch what they are for (in a document of the repository's)."""
    document = ROOT / "docs" / "API.md"
    assert _problem(document, "../../shared/CONTRACT.md") == "leads outside the repository"
    assert _problem(document, "missing.md") == "names no file of the repository"
    assert _problem(document, "#no-such-heading") == "names no heading of docs/API.md"
    assert _problem(document, "../README.md#configuration") is None
    sample = tmp_path / "sample.md"
    sample.write_text('[a](x.md) ![b](<y z.png> "title")\n```\n[c](in-code.md)\n```\n`[d](e)`\n')
    assert _targets(sample) == ["x.md", "y z.png"]


def _served() -> set[tuple[str, str]]:
    """Each method and path the app serves (``{}`` for a path parameter), but static
    assets, HEAD and OPTIONS, and Litestar's not-found page under ``/schema/``.

    Building the app opens nothing: the database is connected when it starts."""
    environ = {
        f"{PREFIX}JWT_SECRET": "docs-test-secret-" + "x" * 32,
        f"{PREFIX}DATA_DIR": "/nonexistent/the-app-is-only-built",
    }
    app = create_app(load_settings(environ, env_file=None))
    served = set()
    for route in app.routes:
        if "/static/" in route.path:
            continue
        for method, (handler, _) in getattr(route, "route_handler_map", {}).items():
            if method in {"HEAD", "OPTIONS"}:
                continue
            if getattr(handler.fn, "__name__", "") == "handle_schema_path_not_found":
                continue
            served.add((method, _PARAMETER.sub("{}", route.path)))
    return served


def _documented() -> set[tuple[str, str]]:
    """The methods and paths of ``docs/API.md``'s headings (`` `GET /api/users/{id}` ``)."""
    headings = _HEADING.findall(_prose(API_PAGE.read_text(encoding="utf-8")))
    return {
        (method, _PARAMETER.sub("{}", path))
        for heading in headings
        for method, path in _ENDPOINT.findall(heading)
    }


def test_the_api_page_documents_every_route_served() -> None:
    served, documented = _served(), _documented()
    assert ("GET", "/api/users/{}") in served  # the comparison sees parameters alike
    assert sorted(served - documented) == []  # served, not documented
    assert sorted(documented - served) == []  # documented, not served


def _signature(name: str, field: GraphQLField) -> str:
    arguments = ", ".join(f"{arg}: {value.type}" for arg, value in field.args.items())
    return f"{name}({arguments}): {field.type}" if arguments else f"{name}: {field.type}"


def test_the_api_page_gives_every_graphql_operation_as_the_schema_has_it() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    page = API_PAGE.read_text(encoding="utf-8")
    root_types = [schema.query_type, schema.mutation_type, schema.subscription_type]
    signatures = [
        _signature(name, field)
        for root in root_types
        if root is not None
        for name, field in root.fields.items()
    ]
    assert "products(first: Int, after: String, last: Int, before: String, category: String, " \
        "orderBy: ProductOrder): ProductConnection!" in signatures  # fmt: skip
    assert [s for s in signatures if f"`{s}`" not in page] == []


def test_the_api_page_names_only_real_settings() -> None:
    known = {PREFIX + field.name.upper() for field in msgspec.structs.fields(Settings)}
    named = set(re.findall(rf"\b{PREFIX}[A-Z0-9_]+\b", API_PAGE.read_text(encoding="utf-8")))
    assert named, "the page names the settings behaviour depends on"
    assert sorted(named - known) == []
