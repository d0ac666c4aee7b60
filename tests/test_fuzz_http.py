"""Fuzzing the HTTP API: schemathesis over the live `/api/openapi.json`, and hypothesis over the
request bodies of the same document with the values that break storage (huge integers, offsets,
long and odd strings, deep nesting), against a real server on a free port.

The property (issue 9): every request is answered below 500, errors as `{"error": {"code",
"message"}}` with a contract code matching the status, the answer conforms to the document
(status, content type, schema), nothing is logged as an ERROR, and afterwards the server still
answers others: /healthz, and a participant's and a staff member's clock:sync and session:state.
Each operation is tried as admin, instructor, support, a participant, a wrong token and no token.

Runs on both configurations: bodies end in different databases (SQLite, PostgreSQL), where what
overflows differs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
import socketio
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz_support import (
    EDGE_INTS,
    EDGE_STRINGS,
    Bridge,
    Failures,
    LogWatch,
    describe_logs,
    from_json_schema,
    fuzz_server,
    fuzz_settings,
    http_problem,
    in_thread,
    minimal_valid,
    nasty_values,
    short,
    signature_of,
    sweep,
    watch_logs,
)
from tests.support import Client, Server, iso_in

# What a spoiled body carries in one of its properties.
SPOILERS = [
    2**63,
    2**64,
    10**30,
    -(2**63) - 1,
    "\x00",
    "a\x00",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    [2**64],
    {"n": 2**64},
    "a" * 2001,
]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("admin", "admin", "admin", "instructor", "support", "participant", "garbage", "none")
RESPONSIVE_S = 2.0


@dataclass
class Api:
    server: Server
    session_id: str
    tokens: dict[str, str]
    bystanders: list[Client]

    def headers(self, role: str) -> dict[str, str]:
        if role == "none":
            return {}
        if role == "garbage":
            return {"Authorization": "Bearer cmp_nope_nope"}
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
async def api(tmp_path: Path, backing: dict[str, Any]) -> AsyncIterator[Api]:
    async with fuzz_server(tmp_path, backing) as (srv, _hub):
        session = await srv.session()
        people = await srv.participants(session["id"], 2)
        tokens = {
            "admin": srv.admin_token,
            "instructor": await srv.token("instructor", "Iris Instructor", "teacher@example.org"),
            "support": await srv.token("support", "Sam Support", "support@example.org"),
            "participant": people[0]["token"],
        }
        bystanders = [await srv.connect(people[1]["token"]), await srv.connect(tokens["support"], session["id"])]
        yield Api(srv, session["id"], tokens, bystanders)


async def still_answers(api: Api) -> list[str]:
    problems = []
    for c in api.bystanders:
        for event, data in (("clock:sync", {"t0": 1}), ("session:state", {})):
            t = time.monotonic()
            try:
                ack = await c.call(event, data, timeout=RESPONSIVE_S)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError) as e:
                problems.append(f"bystander {event}: no answer ({type(e).__name__})")
                continue
            if not (isinstance(ack, dict) and ack.get("ok") is True) or time.monotonic() - t > RESPONSIVE_S:
                problems.append(f"bystander {event}: {short(ack)} after {time.monotonic() - t:.1f}s")
    r = await api.server.http.get("/healthz")
    if r.status_code != 200:
        problems.append(f"/healthz {r.status_code} {r.text[:200]}")
    r = await api.server.api("GET", f"/api/sessions/{api.session_id}")
    if r.status_code != 200:
        problems.append(f"GET its session {r.status_code} {r.text[:200]}")
    return problems


def content_type(headers: Any) -> str:
    """A schemathesis Response's headers map names to lists of values."""
    for k, v in dict(headers).items():
        if k.lower() == "content-type":
            return str(v[0] if isinstance(v, list) and v else v)
    return ""


def _logs(logs: LogWatch, mark: int) -> str:
    found = logs.since(mark)
    return f" | log: {describe_logs(found)}" if found else ""


def sig(problem: str, label: str) -> str:
    kind = problem.split(":", 1)[0]
    tb = problem.rsplit("[", 1)[-1].rstrip("]") if " | log: " in problem else ""
    return signature_of(f"{label} / {kind} / {tb[:120]}")


# ------------------------------------------------------------ schemathesis over the document


def rfc3339_times() -> st.SearchStrategy[str]:
    """Real RFC 3339 times with an offset, from year 1 to 9999 and any offset within a day (the
    document's pattern alone mostly yields impossible dates, which stop a body at the first check)."""
    offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
    near = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=offsets)
    anywhen = st.datetimes(timezones=offsets)
    edges = st.sampled_from(
        [
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59.999999Z",
            "0001-01-01T00:00:00Z",
        ]
    )
    return st.one_of(near, anywhen, edges).map(lambda t: t if isinstance(t, str) else t.isoformat())


def schemathesis_run(api: Api, logs: LogWatch, failures: Failures, n: int) -> list[str]:
    """Runs in a worker thread (requests is blocking; the server answers on the test's loop)."""
    url = api.server.url
    schemathesis.openapi.format("date-time", rfc3339_times())
    schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json", timeout=10)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    found: list[str] = []
    http = requests.Session()
    # Real ids in the path, so calls reach past `not_found` (the staff path names a throwaway member).
    real = {"session_id": api.session_id, "email": "nobody-in-particular@example.org"}
    for op in operations:
        run_operation(api, logs, failures, http, op, real, n, found)
    http.close()
    return found


def body_properties(op: Any) -> list[str]:
    """The properties of an operation's JSON body schema, the most open first (none if no body)."""
    try:
        schema = op.body.items[0].definition["schema"]
        if "$ref" in schema:
            schema = op.schema.raw_schema["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        props: dict[str, Any] = schema.get("properties", {})
    except (AttributeError, IndexError, KeyError, TypeError):
        return []

    def openness(name: str) -> tuple[int, str]:
        text = json.dumps(props[name])
        # First what the document leaves most open (any JSON in a list), then formatted strings.
        return (0 if '"items": {}' in text or "type" not in text else 1 if "format" in text else 2, name)

    return sorted(props, key=openness)


def run_operation(
    api: Api,
    logs: LogWatch,
    failures: Failures,
    http: requests.Session,
    op: Any,
    real: dict[str, str],
    n: int,
    found: list[str],
) -> None:
    url = api.server.url
    params = {p.name for p in op.path_parameters} if op.path_parameters else set()
    fixed = {k: v for k, v in real.items() if k in params}
    cases = [op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE)]
    if fixed:
        cases += [
            op.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
            op.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
        ]

    props = body_properties(op)
    # Admin bodies the document allows, with one property now and then set to a value where storage
    # and encoders break (the document's types leave them open: an agenda item, an offset's range).
    spoil = st.one_of(
        st.none(), st.tuples(st.integers(0, max(len(props) - 1, 0)), st.sampled_from(SPOILERS), st.booleans())
    )

    @fuzz_settings(2 * n if props else n)
    @given(case=st.one_of(cases), role=st.sampled_from(ROLES), spoiled=spoil)
    def prop(case: Any, role: str, spoiled: tuple[int, Any, bool] | None) -> None:
        if spoiled is not None and props and isinstance(case.body, dict):
            index, value, as_item = spoiled
            key = props[index]
            case.body[key] = [{"n": value}] if key == "agenda" and as_item else value
            role = "admin"  # past the role check, to where the value is used
        mark = logs.mark()
        response = case.call(base_url=url, session=http, headers=api.headers(role), timeout=10)
        problem = http_problem(response.status_code, content_type(response.headers), response.text)
        if problem is None:
            try:
                case.validate_response(response, checks=CHECKS)
            except AssertionError as e:  # schemathesis Failure / FailureGroup
                problem = "does not conform to the document: " + " ".join(str(e).split())[:400]
            except BaseExceptionGroup as e:
                problem = "does not conform to the document: " + " ".join(str(x) for x in e.exceptions)[:400]
        time.sleep(0.005)  # an ERROR logged after the answer went out
        if problem is None and logs.since(mark):
            problem = "logged an ERROR"
        if problem:
            where = f"{op.label} as {role}: {case.as_curl_command()[:1200]}"
            detail = f"{problem}: {where}" + _logs(logs, mark)
            failures.fail(sig(problem + _logs(logs, mark), op.label), detail)

    try:
        prop()
    except AssertionError as e:
        found.append(str(e).splitlines()[0][:2000])


@pytest.mark.timeout(300)
async def test_schemathesis_over_openapi(api: Api) -> None:
    failures = Failures("schemathesis")
    with watch_logs() as logs:
        t = time.monotonic()
        found = await in_thread(lambda: schemathesis_run(api, logs, failures, 25))
        print(f"schemathesis: {time.monotonic() - t:.1f}s")
        failures.write()
        found += await still_answers(api)
        late = list(logs.records)
    assert not found, "\n".join(found)
    assert not late, describe_logs(late)
    assert not failures.seen, "\n".join(failures.seen.values())


# ------------------------------------------------------------ hostile values in every body


def bodies(doc: dict[str, Any], ref: str, ids: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """Bodies for one operation: valid under its schema, then with one field (at any depth of the
    first level) replaced by a hostile value, dropped, or the whole body replaced."""
    defs = doc["components"]["schemas"]
    schema = defs[ref.rsplit("/", 1)[-1]]
    valid = from_json_schema(schema, defs, ids)
    keys = list(schema.get("properties", {})) or ["x"]
    hostile = st.one_of(
        nasty_values,
        st.sampled_from(EDGE_INTS).map(lambda i: [{"t": "x", "n": i}]),  # an agenda item holding it
        st.sampled_from(EDGE_INTS).map(lambda i: [i]),
        st.sampled_from(
            [
                "2026-03-01T09:00:00+99:59",
                "2026-03-01T09:00:00-99:59",
                "9999-12-31T23:59:59-23:59",
                "0001-01-01T00:00:00+23:59",
                "9999-12-31T23:59:59Z",
                "0001-01-01T00:00:00Z",
                "2026-02-30T09:00:00Z",
                "2026-03-01T24:00:00Z",
                "2026-03-01T09:00:60Z",
                "2026-03-01T09:00:00.9999999999999+00:00",
            ]
        ),
        st.sampled_from(EDGE_STRINGS).map(lambda s: s + "@example.org"),
    )

    @st.composite
    def broken(draw: st.DrawFn) -> Any:
        base = draw(valid)
        if not isinstance(base, dict):
            return base
        base = dict(base)
        key = draw(st.sampled_from(keys))
        if draw(st.integers(0, 5)) == 0:
            base.pop(key, None)
        else:
            base[key] = draw(hostile)
        if key == "participants" and draw(st.booleans()):
            base[key] = [{"name": draw(hostile), "email": "a@example.org"}]
        return base

    return st.one_of(valid, broken(), broken(), broken())


async def post_one(api: Api, logs: LogWatch, method: str, path: str, role: str, body: Any) -> str | None:
    mark = logs.mark()
    raw = json.dumps(body, allow_nan=False)
    try:
        r = await api.server.http.request(
            method, path, content=raw, headers={**api.headers(role), "content-type": "application/json"}
        )
    except httpx.HTTPError as e:
        return f"no answer ({type(e).__name__}): {method} {path} as {role} with {short(raw, 600)}"
    await asyncio.sleep(0.005)
    problem = http_problem(r.status_code, r.headers.get("content-type", ""), r.text)
    if problem is None and r.status_code < 300 and path == "/api/sessions" and method == "POST":
        # What was accepted must read back: an agenda or time that cannot be served bricks the session.
        made = r.json()
        for sid in [s["id"] for s in made["sessions"]] if "series_id" in made else [made.get("id")]:
            back = await api.server.api("GET", f"/api/sessions/{sid}")
            if back.status_code != 200:
                problem = f"created, then GET answers {back.status_code}: {back.text[:200]}"
                break
    if problem is None and logs.since(mark):
        problem = "logged an ERROR"
    if problem is None:
        return None
    return f"{problem}: {method} {path} as {role} with {short(raw, 600)}" + _logs(logs, mark)


def http_bases() -> dict[str, dict[str, Any]]:
    """A valid body of each request schema (by component name); the others start from the simplest
    body their schema allows."""
    return {
        "SessionCreate": {
            "topic": "Fuzzing",
            "instructor_email": "teacher@example.org",
            "starts_at": iso_in(60),
            "duration_minutes": 60,
            "capacity": 50,
            "platform": "zoom",
            "join_url": "https://example.org/j/1",
            "agenda": ["Intro", "Work"],
            "late_after_minutes": 5,
            "checkin_code": True,
        },
        "ParticipantsAdd": {"participants": [{"name": "Pat Participant", "email": "pat@example.org"}]},
        "TokenCreate": {"role": "support", "name": "Sam", "email": "sam@example.org"},
        "InviteCreate": {"email": "new@example.org", "name": "New Person", "role": "support"},
    }


async def sweep_body(
    api: Api, logs: LogWatch, failures: Failures, doc: dict[str, Any], method: str, path: str, ref: str, label: str
) -> None:
    name = ref.rsplit("/", 1)[-1]
    defs = doc["components"]["schemas"]
    base = http_bases().get(name) or await in_thread(lambda: minimal_valid(defs[name], defs))
    if not isinstance(base, dict):
        return
    for _where, body in sweep(base):
        problem = await post_one(api, logs, method, path, "admin", body)
        if problem:
            failures.record(sig(problem, label), problem)


def fuzz_bodies(
    bridge: Bridge, api: Api, logs: LogWatch, failures: Failures, doc: dict[str, Any], method: str, path: str, ref: str
) -> None:
    label = f"{method} {path.replace(api.session_id, '{session_id}')}"

    @fuzz_settings(30)
    @given(role=st.sampled_from(["admin"] * 6 + ["instructor", "participant"]), body=bodies(doc, ref, {}))
    def prop(role: str, body: Any) -> None:
        problem = bridge.run(post_one(api, logs, method, path, role, body))
        if problem:
            failures.fail(sig(problem, label), problem)

    prop()


@pytest.mark.timeout(240)
async def test_hostile_values_in_every_body(api: Api) -> None:
    bridge = Bridge(asyncio.get_running_loop())
    doc = (await api.server.http.get("/api/openapi.json")).json()
    ops = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                ops.append((method.upper(), path.replace("{session_id}", api.session_id), content["schema"]["$ref"]))
    assert any(p == "/api/sessions" for _, p, _ in ops), ops
    failures = Failures("http bodies")
    found: list[str] = []
    with watch_logs() as logs:
        t = time.monotonic()
        for method, path, ref in ops:
            await sweep_body(
                api, logs, failures, doc, method, path, ref, f"{method} {path.replace(api.session_id, '{session_id}')}"
            )
            try:
                await in_thread(lambda m=method, p=path, r=ref: fuzz_bodies(bridge, api, logs, failures, doc, m, p, r))
            except AssertionError as e:
                found.append(str(e).splitlines()[0][:2000])
        print(f"hostile bodies: {time.monotonic() - t:.1f}s over {len(ops)} operations")
        failures.write()
        found += await still_answers(api)
        late = list(logs.records)
    assert not found, "\n".join(found)
    assert not late, describe_logs(late)
    assert not failures.seen, "\n".join(failures.seen.values())
