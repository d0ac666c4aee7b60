"""The OpenAPI document: well-formed 3.1, in step with the real routes, judging bodies as the server does."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from starlette.routing import Mount, Route

from core.errors import HTTP_STATUS
from core.settings import Settings
from server.app import create_app
from server.openapi import document
from tests.support import Server, iso_in

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# The document describes the API; it does not list itself (as FastAPI does not either).
SELF = "/api/openapi.json"


# ---------------------------------------------------------------- a small JSON Schema checker


def resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "integer":  # JSON true is a boolean, not 1
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "null": value is None,
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
    }[kind]


def errors(doc: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "") -> list[str]:
    """What is wrong with value under schema: the keywords pydantic's schemas use (JSON Schema 2020-12)."""
    if "$ref" in schema:
        return errors(doc, resolve(doc, schema["$ref"]), value, where)
    if "anyOf" in schema:
        if all(errors(doc, s, value, where) for s in schema["anyOf"]):
            return [f"{where}: matches none of anyOf"]
        return []
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds and not any(_type_ok(k, value) for k in kinds):
        return [f"{where}: not {kind}"]
    out: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: not one of {schema['enum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            out.append(f"{where}: length")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{where}: pattern")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            out.append(f"{where}: range")
    if isinstance(value, dict):
        out += [f"{where}.{k}: required" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            if k in schema.get("properties", {}):
                out += errors(doc, schema["properties"][k], v, f"{where}.{k}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{where}.{k}: not allowed")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            out.append(f"{where}: items count")
        for i, item in enumerate(value):
            out += errors(doc, schema.get("items", {}), item, f"{where}.{i}")
    return out


def test_the_checker_can_refuse() -> None:
    """The checker above catches each kind of mistake (so agreement below means something)."""
    doc: dict[str, Any] = {"components": {"schemas": {"N": {"type": "integer", "minimum": 1}}}}
    schema = {
        "type": "object",
        "required": ["n"],
        "properties": {"n": {"$ref": "#/components/schemas/N"}, "s": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
    }
    assert errors(doc, schema, {"n": 1, "s": None}) == []
    assert errors(doc, schema, {"n": "1"}) and errors(doc, schema, {"n": True}) and errors(doc, schema, {"n": 0})
    assert errors(doc, schema, {}) and errors(doc, schema, {"n": 1, "s": 2}) and errors(doc, schema, [])


# ---------------------------------------------------------------- the document itself


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document()


async def test_the_server_serves_the_document(server: Server) -> None:
    """GET /api/openapi.json answers the document as JSON, without a token."""
    r = await server.http.get(SELF)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == document()


def test_the_document_is_openapi_3_1(doc: dict[str, Any]) -> None:
    """openapi 3.1.x, an info block, paths, components with the bearer scheme."""
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert isinstance(doc["info"]["title"], str) and doc["info"]["title"]
    assert isinstance(doc["info"]["version"], str) and doc["info"]["version"]
    assert doc["paths"] and all(path.startswith("/") for path in doc["paths"])
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]


def test_every_operation_is_well_formed(doc: dict[str, Any]) -> None:
    """Known methods, unique operationIds, a success answer, path parameters declared exactly once."""
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    for path, method, op in operations(doc):
        assert method in METHODS, (path, method)
        assert op["summary"]
        answers = op["responses"]
        assert any(re.fullmatch(r"2\d\d", code) for code in answers), (path, method)
        assert all(a["description"] for a in answers.values())
        in_path = set(re.findall(r"\{(\w+)\}", path))
        declared = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        assert sorted(declared) == sorted(in_path), (path, method)
        assert all(p["required"] is True for p in op.get("parameters", []) if p["in"] == "path")


def test_every_reference_resolves(doc: dict[str, Any]) -> None:
    """Each $ref points at a component that exists; each security requirement at a scheme."""
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    assert refs
    for ref in refs:
        resolve(doc, ref)
    schemes = doc["components"]["securitySchemes"]
    for path, method, op in operations(doc):
        for requirement in op.get("security", []):
            assert set(requirement) <= set(schemes), (path, method)


def test_errors_are_documented_with_every_contract_code(doc: dict[str, Any]) -> None:
    """The Error schema is {error: {code, message}} with exactly the contract's codes."""
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    inner = error["properties"]["error"]
    assert sorted(inner["required"]) == ["code", "message"]
    assert set(inner["properties"]["code"]["enum"]) == set(HTTP_STATUS)
    for path, method, op in operations(doc):
        for code in ("400", "401", "403"):
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, code)


def test_bodies_that_may_be_too_large_document_413(doc: dict[str, Any]) -> None:
    """Every operation that reads a JSON body says it may answer 413 too_large."""
    with_body = [(path, method, op) for path, method, op in operations(doc) if "requestBody" in op]
    assert len(with_body) >= 3
    for path, method, op in with_body:
        assert "413" in op["responses"], (path, method)


CONTRACT = {
    ("get", "/healthz"): None,
    ("post", "/api/tokens"): "admin",
    ("delete", "/api/tokens/{token_id}"): "admin",
    ("post", "/api/sessions"): "admin",
    ("get", "/api/sessions/{session_id}"): "admin, instructor, support",
    ("post", "/api/sessions/{session_id}/participants"): "admin",
    ("post", "/api/sessions/{session_id}/close"): "admin, instructor",
    ("get", "/api/sessions/{session_id}/attendance"): "admin, instructor, support",
    ("get", "/api/sessions/{session_id}/attendance.csv"): "admin, instructor, support",
    ("get", "/api/sessions/{session_id}/chat"): "admin, instructor, support",
    # Part 2: scheduling
    ("get", "/api/platforms"): "admin, instructor, support",
    ("patch", "/api/sessions/{session_id}"): "admin",
    ("post", "/api/sessions/{session_id}/cancel"): "admin",
    ("get", "/api/sessions"): "admin, instructor, support",
    ("delete", "/api/sessions/{session_id}/participants/{participant_id}"): "admin",
    ("post", "/api/sessions/{session_id}/participants.csv"): "admin",
    ("get", "/api/audit"): "admin",
    # Part 2: records management, a person's data
    ("get", "/api/people/{email}/export"): "admin",
    ("post", "/api/people/{email}/erase"): "admin",
}


def test_the_contract_rows_are_documented_with_who_may(doc: dict[str, Any]) -> None:
    """Each contract row is in the document with its roles, a bearer requirement and its success code."""
    for (method, path), roles in CONTRACT.items():
        op = doc["paths"][path][method]
        if roles is None:
            assert "security" not in op
            continue
        assert op["description"] == f"Who may: {roles}"
        assert {"bearer": []} in op["security"]
    assert "201" in doc["paths"]["/api/tokens"]["post"]["responses"]
    assert "201" in doc["paths"]["/api/sessions"]["post"]["responses"]
    assert "text/csv" in doc["paths"]["/api/sessions/{session_id}/attendance.csv"]["get"]["responses"]["200"]["content"]
    bodies = {
        (method, path): op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for path, method, op in operations(doc)
        if "application/json" in op.get("requestBody", {}).get("content", {}) and (method, path) in CONTRACT
    }
    assert bodies == {
        ("post", "/api/tokens"): "TokenCreate",
        ("post", "/api/sessions"): "SessionCreate",
        ("post", "/api/sessions/{session_id}/participants"): "ParticipantsAdd",
        ("patch", "/api/sessions/{session_id}"): "SessionPatch",
        ("post", "/api/sessions/{session_id}/cancel"): "Cancel",
        ("post", "/api/people/{email}/erase"): "Erase",
    }
    csv = doc["paths"]["/api/sessions/{session_id}/participants.csv"]["post"]["requestBody"]["content"]
    assert list(csv) == ["text/csv"]
    listing = {p["name"] for p in doc["paths"]["/api/sessions"]["get"]["parameters"]}
    assert {"from", "to", "instructor_email"} <= listing
    audit = {p["name"] for p in doc["paths"]["/api/audit"]["get"]["parameters"]}
    assert {"session_id", "actor", "action", "after", "limit", "cursor"} <= audit


# ---------------------------------------------------------------- the document and the routes agree


# What the app serves that is no API call: the pages, as a browser opens them, and their files.
PAGES = {
    ("GET", "/"),
    ("GET", "/login"),
    ("GET", "/enroll"),
    ("GET", "/home"),
    ("GET", "/schedule"),
    ("GET", "/join/{session_id}"),
    ("GET", "/dashboard/{session_id}"),
    ("GET", "/support/{session_id}"),
    ("GET", "/rsvp/{token}"),
    ("GET", "/feedback/{token}"),
    ("GET", "/audit"),
    ("GET", "/reports"),
    ("GET", "/people"),
    ("GET", "/setup/{session_id}"),
    ("GET", "/static"),
}


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, method, _ in operations(doc)}


def served(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    """(METHOD, path) of every route the app routes to, inside mounts too (HEAD comes with GET).

    A mount that is no router (the static files) is listed as a GET of its path.
    """
    out = set()
    for route in routes:
        if isinstance(route, Route):
            assert route.methods, route.path
            out |= {(m, prefix + route.path) for m in route.methods if m != "HEAD"}
        elif isinstance(route, Mount):
            inner = served(route.routes, prefix + route.path)
            out |= inner or {("GET", prefix + route.path)}
        else:
            raise AssertionError(f"a route of an unknown kind: {route!r}")
    return out


@pytest.fixture(scope="module")
def real_routes(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """What the app create_app builds routes to (not the table the document is made from)."""
    settings = Settings.from_env(
        {
            "COMPANION_DATA_DIR": str(tmp_path_factory.mktemp("openapi")),
            "COMPANION_SECRET_KEY": "openapi-test-secret-0123456789-abcdefgh",
        }
    )
    asgi = create_app(settings)
    starlette = asgi.other_asgi_app.app.app  # socketio.ASGIApp -> SecurityHeaders -> RequestLog -> Starlette
    return served(starlette.routes)


def test_the_contract_calls_are_served_and_documented(doc: dict[str, Any], real_routes: set[tuple[str, str]]) -> None:
    """Each call of the contract's table is a route of the real app and an operation of the document."""
    contract = {(m.upper(), p) for m, p in CONTRACT}
    assert contract - real_routes == set(), "in the contract but not served"
    assert contract - documented(doc) == set(), "in the contract but not documented"


def test_every_route_of_the_real_app_is_documented_or_a_page(
    doc: dict[str, Any], real_routes: set[tuple[str, str]]
) -> None:
    """Walk the app create_app builds: what it serves, less the pages, is exactly what the document lists."""
    assert PAGES <= real_routes, "a page named here is no longer served"
    assert real_routes - PAGES - {("GET", SELF)} - documented(doc) == set(), "served but not documented"
    assert documented(doc) - real_routes == set(), "documented but not served"
    assert documented(doc) & PAGES == set()


def test_served_finds_what_a_document_would_miss() -> None:
    """The walk above sees a route added beside the table and one inside a mount (so agreement means something)."""

    async def endpoint(request: Any) -> Any:
        raise AssertionError("never called")

    extra = [Route("/api/extra", endpoint, methods=["POST"]), Mount("/api/v2", routes=[Route("/x", endpoint)])]
    assert served(extra) == {("POST", "/api/extra"), ("GET", "/api/v2/x")}


async def test_every_documented_operation_is_answered_by_the_server(server: Server, doc: dict[str, Any]) -> None:
    """A request to each documented operation, with real identifiers, reaches a handler (no router 404 or 405)
    and answers one of the statuses the document lists for it."""
    session = await server.session()
    r = await server.api("POST", "/api/tokens", {"role": "support", "name": "Sam"})
    assert r.status_code == 201, r.text
    values = {
        "session_id": session["id"],
        "token_id": r.json()["id"],
        "passkey_id": "pk-none",
        "email": "nobody@example.org",
        "participant_id": "nobody",
        "token": "rsv_nobody_nomac",
        "material_id": "nomaterial",
        "series_id": "noseries",  # the reports
        "table": "attendance",
    }
    # Closing and revoking last: what they change must not change the answers of the others.
    order = sorted(operations(doc), key=lambda o: (o[0].endswith("/close") or "{token_id}" in o[0], o[0], o[1]))
    for path, method, op in order:
        url = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
        body = {} if "requestBody" in op else None
        r = await server.api(method.upper(), url, body)
        where = f"{method.upper()} {path}: {r.status_code} {r.text[:200]}"
        assert r.status_code != 405, where
        assert not (r.status_code == 404 and r.json()["error"]["message"] == "Not Found"), where
        assert str(r.status_code) in op["responses"], where
    r = await server.api("GET", "/api/no-such-call")
    assert r.status_code == 404 and r.json()["error"]["message"] == "Not Found"  # what a route missing answers


# ---------------------------------------------------------------- schemas judge bodies as the server does


def session_example(**fields: Any) -> dict[str, Any]:
    return {
        "topic": "Clocks",
        "instructor_email": "teacher@example.org",
        "starts_at": iso_in(10),
        "duration_minutes": 60,
        "override_reason": "examples book side by side",  # one instructor, one time, many examples
        **fields,
    }


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


SESSION_EXAMPLES: list[tuple[str, Any, bool]] = [
    ("minimal", session_example(), True),
    (
        "every field",
        session_example(
            capacity=5,
            platform="zoom",
            join_url="https://z.example/j/1",
            agenda=["a", {"b": 1}],
            late_after_minutes=0,
            checkin_code=True,
        ),
        True,
    ),
    ("text agenda", session_example(agenda="intro"), True),
    ("nulls for optionals", session_example(capacity=None, platform=None, join_url=None, agenda=None), True),
    ("unknown field", session_example(colour="blue"), True),
    ("offset +01:00", session_example(starts_at="2030-03-01T09:00:00+01:00"), True),
    ("duration as text", session_example(duration_minutes="60"), False),
    ("duration as boolean", session_example(duration_minutes=True), False),
    ("duration 0", session_example(duration_minutes=0), False),
    ("duration over a day", session_example(duration_minutes=24 * 60 + 1), False),
    ("capacity as text", session_example(capacity="5"), False),
    ("late minutes negative", session_example(late_after_minutes=-1), False),
    ("checkin_code as text", session_example(checkin_code="true"), False),
    ("agenda a number", session_example(agenda=3), False),
    ("empty topic", session_example(topic=""), False),
    ("topic missing", _without(session_example(), "topic"), False),
    ("starts_at missing", _without(session_example(), "starts_at"), False),
    ("starts_at without offset", session_example(starts_at="2030-03-01T09:00:00"), False),
    ("starts_at a date", session_example(starts_at="2030-03-01"), False),
    ("not an object", [session_example()], False),
]
TOKEN_EXAMPLES: list[tuple[str, Any, bool]] = [
    ("role and name", {"role": "support", "name": "Sam"}, True),
    ("with email", {"role": "instructor", "name": "Iris", "email": "iris@example.org"}, True),
    ("null email", {"role": "admin", "name": "Ada", "email": None}, True),
    ("unknown role", {"role": "owner", "name": "Sam"}, False),
    ("empty name", {"role": "support", "name": ""}, False),
    ("name missing", {"role": "support"}, False),
    ("email a number", {"role": "support", "name": "Sam", "email": 7}, False),
    ("role a number", {"role": 1, "name": "Sam"}, False),
]
PARTICIPANT_EXAMPLES: list[tuple[str, Any, bool]] = [
    ("one person", {"participants": [{"name": "Ada", "email": "ada@example.org"}]}, True),
    ("empty list", {"participants": []}, False),
    ("not a list", {"participants": {"name": "Ada", "email": "ada@example.org"}}, False),
    ("email missing", {"participants": [{"name": "Ada"}]}, False),
    ("name a number", {"participants": [{"name": 1, "email": "ada@example.org"}]}, False),
    ("a bare string", {"participants": ["ada@example.org"]}, False),
    ("nothing", {}, False),
]


def body_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    schema: dict[str, Any] = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return schema


async def judge(
    server: Server, doc: dict[str, Any], path: str, doc_path: str, examples: list[tuple[str, Any, bool]]
) -> None:
    """Each example is accepted or refused by the schema and by the server alike, as expected."""
    for name, body, accepted in examples:
        by_schema = not errors(doc, body_schema(doc, doc_path), body)
        r = await server.api("POST", path, body)
        assert r.status_code in (200, 201, 400), (name, r.text)
        by_server = r.status_code != 400
        assert (by_schema, by_server) == (accepted, accepted), f"{name}: schema {by_schema}, server {by_server}"


async def test_the_session_schema_judges_as_the_server(server: Server, doc: dict[str, Any]) -> None:
    """POST /api/sessions: the schema accepts and refuses the same bodies as the server."""
    await judge(server, doc, "/api/sessions", "/api/sessions", SESSION_EXAMPLES)
    duration = resolve(doc, body_schema(doc, "/api/sessions")["$ref"])["properties"]["duration_minutes"]
    assert duration["type"] == "integer"


async def test_the_token_schema_judges_as_the_server(server: Server, doc: dict[str, Any]) -> None:
    """POST /api/tokens: the schema accepts and refuses the same bodies as the server."""
    await judge(server, doc, "/api/tokens", "/api/tokens", TOKEN_EXAMPLES)


async def test_the_participants_schema_judges_as_the_server(server: Server, doc: dict[str, Any]) -> None:
    """POST .../participants: the schema accepts and refuses the same bodies as the server."""
    session = await server.session()
    path = f"/api/sessions/{session['id']}/participants"
    examples = [(n, b, ok) for n, b, ok in PARTICIPANT_EXAMPLES]
    await judge(server, doc, path, "/api/sessions/{session_id}/participants", examples)
    extra = {"participants": [{"name": "Bo", "email": f"{uuid.uuid4().hex[:6]}@example.org", "note": "x"}]}
    assert not errors(doc, body_schema(doc, "/api/sessions/{session_id}/participants"), extra)
    assert (await server.api("POST", path, extra)).status_code == 200


def test_time_and_email_fields_carry_their_formats(doc: dict[str, Any]) -> None:
    """starts_at is documented as an RFC 3339 date-time; email fields as emails."""
    schemas = doc["components"]["schemas"]
    assert schemas["SessionCreate"]["properties"]["starts_at"]["format"] == "date-time"
    assert schemas["SessionCreate"]["properties"]["instructor_email"]["format"] == "email"
    assert schemas["Person"]["properties"]["email"]["format"] == "email"
