"""Staff API tokens: creating and revoking over HTTP and the CLI, and who a token acts as."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.support import Client, Server

COMPANION = str(Path(sys.executable).with_name("companion"))


# ---------------------------------------------------------------- helpers


async def create(server: Server, body: Any, token: str | None = None) -> dict[str, Any]:
    """POST /api/tokens that must succeed; answers the body."""
    r = await server.api("POST", "/api/tokens", body, token=token)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def refusal(server: Server, auth: dict[str, Any]) -> str:
    """The message a Socket.IO connect with this auth is refused with."""
    sio = socketio.AsyncClient(reconnection=False)
    messages: list[Any] = []
    sio.on("connect_error", lambda data=None: messages.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=10)
    assert len(messages) == 1, messages
    data = messages[0]
    return str(data["message"] if isinstance(data, dict) else data)


async def wait_disconnected(client: Client) -> None:
    """Wait (up to 5 s) until the server has closed the client's connection."""
    deadline = time.monotonic() + 5
    while client.sio.connected:
        assert time.monotonic() < deadline, "the client is still connected"
        await asyncio.sleep(0.02)


def token_id_of(token: str) -> str:
    """A staff token is `cmp_{id}_{secret}`: the id is what revoke takes."""
    prefix, ident, _secret = token.split("_", 2)
    assert prefix == "cmp"
    return ident


async def chat(client: Client, text: str, client_id: str | None = None) -> dict[str, Any]:
    ack = await client.call("chat:send", {"client_id": client_id or uuid.uuid4().hex, "text": text})
    assert ack["ok"] is True, ack
    return dict(ack)


# ---------------------------------------------------------------- POST /api/tokens


async def test_create_answers_201_with_id_token_role_name_email(server: Server) -> None:
    """The answer has exactly id, token, role, name and email, and the token works at once."""
    r = await server.api("POST", "/api/tokens", {"role": "support", "name": "Sam Support", "email": "sam@example.org"})
    assert r.status_code == 201
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"id", "token", "role", "name", "email"}
    assert (body["role"], body["name"], body["email"]) == ("support", "Sam Support", "sam@example.org")
    assert isinstance(body["id"], str) and body["id"]
    assert isinstance(body["token"], str) and body["id"] in body["token"]
    session = await server.session()
    r = await server.api("GET", f"/api/sessions/{session['id']}", token=body["token"])
    assert r.status_code == 200 and r.json()["id"] == session["id"]


async def test_create_without_email_answers_null_email(server: Server) -> None:
    """email is optional and answered as null."""
    body = await create(server, {"role": "instructor", "name": "No Mail"})
    assert body["email"] is None and body["role"] == "instructor"


async def test_each_created_token_is_new(server: Server) -> None:
    """Two tokens for the same person have different ids and secrets."""
    a = await create(server, {"role": "support", "name": "Sam", "email": "sam@example.org"})
    b = await create(server, {"role": "support", "name": "Sam", "email": "sam@example.org"})
    assert a["id"] != b["id"] and a["token"] != b["token"]


async def test_an_admin_token_made_over_http_can_make_tokens(server: Server) -> None:
    """A created admin token is a full admin."""
    admin = await create(server, {"role": "admin", "name": "Second Admin"})
    made = await create(server, {"role": "support", "name": "By Second"}, token=admin["token"])
    assert made["name"] == "By Second"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "owner", "name": "X"}, "role"),
        ({"role": "ADMIN", "name": "X"}, "role"),
        ({"name": "X"}, "role"),
        ({"role": "support"}, "name"),
        ({"role": "support", "name": "   "}, "name"),
        ({"role": "support", "name": 5}, "name"),
        ({"role": "support", "name": "X", "email": "not-an-email"}, "email"),
        ({"role": "support", "name": "X", "email": 5}, "email"),
        ({"role": 1, "name": "X"}, "role"),
    ],
)
async def test_create_refuses_a_bad_body_naming_the_field(server: Server, body: Any, field: str) -> None:
    """Bad roles, names and emails answer 400 invalid with the field named; nothing is created."""
    r = await server.api("POST", "/api/tokens", body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"].startswith(field), error


@pytest.mark.parametrize("raw", [b"", b"[]", b'"admin"', b"{nope", b"null"])
async def test_create_refuses_a_body_that_is_not_a_json_object(server: Server, raw: bytes) -> None:
    """Empty, non-object and broken JSON bodies answer 400 invalid."""
    r = await server.http.post("/api/tokens", content=raw, headers={"authorization": f"Bearer {server.admin_token}"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid"


async def test_unknown_fields_are_ignored(server: Server) -> None:
    """Extra fields do not make the body invalid and are not echoed."""
    body = await create(server, {"role": "support", "name": "Sam", "colour": "blue"})
    assert "colour" not in body and body["name"] == "Sam"


# ---------------------------------------------------------------- DELETE /api/tokens/{id}


async def test_revoke_answers_and_the_token_is_refused_over_http(server: Server) -> None:
    """A revoked token answers 401 unauthorized with a message saying revoked."""
    made = await create(server, {"role": "support", "name": "Sam"})
    session = await server.session()
    assert (await server.api("GET", f"/api/sessions/{session['id']}", token=made["token"])).status_code == 200
    r = await server.api("DELETE", f"/api/tokens/{made['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": made["id"], "revoked": True}
    r = await server.api("GET", f"/api/sessions/{session['id']}", token=made["token"])
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert "revoked" in r.json()["error"]["message"]


async def test_revoking_twice_answers_the_same(server: Server) -> None:
    """Revoking an already revoked token is fine and changes nothing."""
    made = await create(server, {"role": "support", "name": "Sam"})
    first = await server.api("DELETE", f"/api/tokens/{made['id']}")
    second = await server.api("DELETE", f"/api/tokens/{made['id']}")
    assert first.status_code == second.status_code == 200
    assert second.json() == {"id": made["id"], "revoked": True}


async def test_revoking_an_unknown_token_is_not_found(server: Server) -> None:
    """An id that names no token answers 404 not_found."""
    r = await server.api("DELETE", "/api/tokens/0123456789abcdef")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_a_revoked_admin_token_cannot_make_tokens(server: Server) -> None:
    """Revocation ends every power of the token, admin included."""
    admin = await create(server, {"role": "admin", "name": "Temp Admin"})
    assert (await server.api("DELETE", f"/api/tokens/{admin['id']}")).status_code == 200
    r = await server.api("POST", "/api/tokens", {"role": "admin", "name": "Sneaky"}, token=admin["token"])
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]


async def test_revoking_one_token_leaves_the_others_of_the_same_person(server: Server) -> None:
    """Only the revoked token ends; another token of the same email still works."""
    session = await server.session()
    a = await create(server, {"role": "support", "name": "Sam", "email": "sam@example.org"})
    b = await create(server, {"role": "support", "name": "Sam", "email": "sam@example.org"})
    assert (await server.api("DELETE", f"/api/tokens/{a['id']}")).status_code == 200
    assert (await server.api("GET", f"/api/sessions/{session['id']}", token=a["token"])).status_code == 401
    assert (await server.api("GET", f"/api/sessions/{session['id']}", token=b["token"])).status_code == 200


async def test_revoking_disconnects_the_tokens_sockets_only(server: Server) -> None:
    """Every socket of the revoked token is closed at once; other sockets stay and work."""
    session = await server.session()
    made = await create(server, {"role": "support", "name": "Sam", "email": "sam@example.org"})
    tab1 = await server.connect(made["token"], session["id"])
    tab2 = await server.connect(made["token"], session["id"])
    admin = await server.connect(server.admin_token, session["id"])
    assert (await tab1.call("clock:sync", {"t0": 1}))["ok"] is True
    r = await server.api("DELETE", f"/api/tokens/{made['id']}")
    assert r.status_code == 200
    await wait_disconnected(tab1)
    await wait_disconnected(tab2)
    assert admin.sio.connected
    assert (await admin.call("clock:sync", {"t0": 2}))["t0"] == 2


async def test_a_revoked_token_is_refused_at_connect_saying_revoked(server: Server) -> None:
    """Connecting with a revoked token is refused with a message that says so."""
    session = await server.session()
    made = await create(server, {"role": "support", "name": "Sam"})
    assert (await server.api("DELETE", f"/api/tokens/{made['id']}")).status_code == 200
    message = await refusal(server, {"token": made["token"], "session": session["id"]})
    assert "revoked" in message


async def test_an_unknown_token_is_refused_at_connect_saying_unknown(server: Server) -> None:
    """A token the server never made is refused as unknown (not as revoked)."""
    session = await server.session()
    made = await create(server, {"role": "support", "name": "Sam"})
    forged = made["token"][:-4] + ("AAAA" if not made["token"].endswith("AAAA") else "BBBB")
    message = await refusal(server, {"token": forged, "session": session["id"]})
    assert "unknown" in message and "revoked" not in message


# ---------------------------------------------------------------- a token acts as its staff member


async def test_a_token_with_an_email_acts_as_that_staff_member(server: Server) -> None:
    """Two tokens of one email (any case) are one person: the first name is kept, chat ids dedupe."""
    session = await server.session(instructor_email="iris@example.org")
    first = await create(server, {"role": "instructor", "name": "Iris First", "email": "iris@example.org"})
    second = await create(server, {"role": "instructor", "name": "Someone Else", "email": "IRIS@Example.org"})
    assert second["name"] == "Someone Else"  # the answer echoes the request
    a = await server.connect(first["token"], session["id"])
    b = await server.connect(second["token"], session["id"])
    sent = await chat(b, "hello from the second token", client_id="same-client-id-1")
    message = await a.wait_for("chat", lambda m: m["id"] == sent["id"])
    assert message["author"] == "Iris First" and message["role"] == "instructor"
    again = await chat(a, "the same message from the first token", client_id="same-client-id-1")
    assert (again["id"], again["seq"]) == (sent["id"], sent["seq"])
    log = (await server.api("GET", f"/api/sessions/{session['id']}/chat")).json()["messages"]
    assert [(m["author"], m["text"]) for m in log] == [("Iris First", "hello from the second token")]


async def test_tokens_without_email_are_separate_authors(server: Server) -> None:
    """Without an email a token is its own author under its own name."""
    session = await server.session()
    x = await create(server, {"role": "support", "name": "Bot X"})
    y = await create(server, {"role": "support", "name": "Bot Y"})
    cx = await server.connect(x["token"], session["id"])
    cy = await server.connect(y["token"], session["id"])
    one = await chat(cx, "from x", client_id="shared-client-id")
    two = await chat(cy, "from y", client_id="shared-client-id")
    assert one["id"] != two["id"] and two["seq"] == one["seq"] + 1
    log = (await server.api("GET", f"/api/sessions/{session['id']}/chat")).json()["messages"]
    assert [m["author"] for m in log] == ["Bot X", "Bot Y"]


async def test_instructor_scope_compares_emails_case_insensitively(server: Server) -> None:
    """An instructor acts in the session whose instructor_email is theirs, in any letter case."""
    session = await server.session(instructor_email="Teacher@Example.ORG")
    mine = await create(server, {"role": "instructor", "name": "Iris", "email": "teacher@example.org"})
    other = await create(server, {"role": "instructor", "name": "Otto", "email": "other@example.org"})
    sid = session["id"]
    assert (await server.api("GET", f"/api/sessions/{sid}", token=mine["token"])).status_code == 200
    client = await server.connect(mine["token"], sid)
    assert (await client.call("session:state", {}))["ok"] is True
    r = await server.api("GET", f"/api/sessions/{sid}", token=other["token"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert "may not" in await refusal(server, {"token": other["token"], "session": sid})
    closed = await server.api("POST", f"/api/sessions/{sid}/close", token=mine["token"])
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


async def test_an_instructor_token_without_email_acts_in_no_session(server: Server) -> None:
    """With no email an instructor matches no session's instructor_email."""
    session = await server.session()
    bare = await create(server, {"role": "instructor", "name": "Nobody"})
    r = await server.api("GET", f"/api/sessions/{session['id']}", token=bare["token"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


# ---------------------------------------------------------------- the companion CLI


async def companion(server: Server, *args: str) -> tuple[int, str, str]:
    """Run `companion ARGS` as a subprocess with the server's own database and key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    env |= {
        "COMPANION_DATA_DIR": str(server.settings.data_dir),
        "COMPANION_DATABASE_URL": server.settings.database_url,
        "COMPANION_SECRET_KEY": server.settings.secret_key,
    }
    proc = await asyncio.create_subprocess_exec(
        COMPANION, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_token_create_prints_a_working_token_on_the_last_line(server: Server) -> None:
    """`companion token create` prints the token alone on the last line; the running server accepts it."""
    session = await server.session()
    code, out, err = await companion(
        server, "token", "create", "--role", "support", "--name", "Cli Support", "--email", "cli@example.org"
    )
    assert code == 0, err
    token = out.rstrip("\n").splitlines()[-1]
    assert token == token.strip() and " " not in token and token.startswith("cmp_")
    r = await server.api("GET", f"/api/sessions/{session['id']}", token=token)
    assert r.status_code == 200 and r.json()["id"] == session["id"]
    r = await server.api("POST", "/api/tokens", {"role": "admin", "name": "No"}, token=token)
    assert r.status_code == 403  # a support token, not an admin one
    client = await server.connect(token, session["id"])
    sent = await chat(client, "from the cli token")
    message = await client.wait_for("chat", lambda m: m["id"] == sent["id"])
    assert (message["author"], message["role"]) == ("Cli Support", "support")


async def test_cli_token_revoke_ends_the_token(server: Server) -> None:
    """`companion token revoke ID` ends a token: the server then answers 401 and refuses its sockets."""
    session = await server.session()
    code, out, err = await companion(server, "token", "create", "--role", "admin", "--name", "Cli Admin")
    assert code == 0, err
    token = out.splitlines()[-1]
    assert (await server.api("GET", f"/api/sessions/{session['id']}", token=token)).status_code == 200
    code, out, err = await companion(server, "token", "revoke", token_id_of(token))
    assert code == 0, err
    assert out.strip() == "revoked"
    r = await server.api("GET", f"/api/sessions/{session['id']}", token=token)
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]
    assert "revoked" in await refusal(server, {"token": token, "session": session["id"]})


async def test_cli_token_revoke_of_an_unknown_id_fails(server: Server) -> None:
    """Revoking an id that names no token exits non-zero and says so."""
    code, out, _ = await companion(server, "token", "revoke", "feedfacefeedface")
    assert code == 1
    assert "no such token" in out


async def test_cli_revokes_a_token_made_over_http(server: Server) -> None:
    """The CLI and the HTTP API share one token table: the id from POST /api/tokens revokes."""
    made = await create(server, {"role": "support", "name": "Sam"})
    code, _, err = await companion(server, "token", "revoke", made["id"])
    assert code == 0, err
    r = await server.api("POST", "/api/sessions", {}, token=made["token"])
    assert r.status_code == 401
