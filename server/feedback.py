"""Feedback forms: the per-session editor, the personal form link, and the results."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from core.errors import Invalid, NotFound
from core.model import SessionState
from server.jsonresponse import json
from server.routes import CONDUCT, MAX_BODY_BYTES, PUBLIC, STAFF, Operation, caller, path_id, raw_body, service
from server.routes import routes as routes_of
from service.feedback import audience_param

PAGE = Path(__file__).resolve().parent.parent / "static" / "feedback.html"


# The bodies as the OpenAPI document shows them; the server reads them with core/feedback.py's rules,
# whose errors name the question and field (`questions[2].options`, `answers.overall`).
class QuestionBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    kind: Literal["rating", "choice", "multi", "text", "yesno"]
    text: str = Field(max_length=500)
    options: list[str] | None = None
    required: bool = False


class FormBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    anonymous: bool = False
    questions: list[QuestionBody] = Field(max_length=30)


class AnswersBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    answers: dict[str, Any]


class FormQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    for_: Literal["participants", "instructor"] = Field("participants", alias="for")


async def _session(request: Request) -> SessionState:
    return await service(request).access.session_of(caller(request), path_id(request, "session_id"))


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await raw_body(request, MAX_BODY_BYTES)
    if not raw.strip():
        raise Invalid("body: a JSON object is required")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise Invalid(f"body: not JSON ({e})") from None
    if not isinstance(parsed, dict):
        raise Invalid("body: must be a JSON object")
    return parsed


def _token(request: Request) -> str:
    token = request.path_params.get("token", "")
    if not isinstance(token, str) or not 1 <= len(token) <= 300:
        raise NotFound("no such feedback link")
    return token


async def get_form(request: Request) -> Response:
    state = await _session(request)
    audience = audience_param(request.query_params.get("for"))
    return json(await service(request).feedback.view_form(state, audience))


async def put_form(request: Request) -> Response:
    state = await _session(request)
    audience = audience_param(request.query_params.get("for"))
    raw = await _json_object(request)
    return json(await service(request).feedback.set_form(caller(request), state, audience, raw))


async def get_results(request: Request) -> Response:
    state = await _session(request)
    audience = audience_param(request.query_params.get("for"))
    return json(await service(request).feedback.results(state, audience))


async def form_by_link(request: Request) -> Response:
    return json(await service(request).feedback.by_link(_token(request)))


async def answer_by_link(request: Request) -> Response:
    token = _token(request)
    raw = await _json_object(request)
    if "answers" not in raw:
        raise Invalid("answers: required, an object {question_id: value}")
    await service(request).feedback.answer(token, raw["answers"])
    return json({})


async def feedback_page(request: Request) -> Response:
    return FileResponse(PAGE, headers={"cache-control": "no-cache"})


FEEDBACK_API: list[Operation] = [
    Operation(
        "GET",
        "/api/sessions/{session_id}/feedback-form",
        get_form,
        STAFF,
        None,
        "The feedback form in force (the default until one is set) and whether it is fixed (it has answers); "
        "?for=instructor: the instructor's own form about the session",
        query=FormQuery,
    ),
    Operation(
        "PUT",
        "/api/sessions/{session_id}/feedback-form",
        put_form,
        CONDUCT,
        FormBody,
        "Set the session's feedback form (?for=instructor: the instructor's own); 409 once it has answers",
        query=FormQuery,
    ),
    Operation(
        "GET",
        "/api/sessions/{session_id}/feedback",
        get_results,
        STAFF,
        None,
        "The form's results per question; an anonymous form shows no names, and no results below 3 responses",
        query=FormQuery,
    ),
    Operation(
        "GET",
        "/api/feedback/{token}",
        form_by_link,
        PUBLIC,
        None,
        "A personal feedback link's form, session, earlier answers and whether it is open (the link is the credential)",
    ),
    Operation(
        "POST",
        "/api/feedback/{token}",
        answer_by_link,
        PUBLIC,
        AnswersBody,
        "Answer the feedback form by a personal link; answering again replaces the answers",
    ),
]


def routes() -> list[Route]:
    """The form's page of the personal link, and the feedback API."""
    # The page is a page (HTML, like /rsvp/{token}), not an API operation: it reads /api/feedback/{token}.
    return [Route("/feedback/{token}", feedback_page, methods=["GET"]), *routes_of(FEEDBACK_API)]
