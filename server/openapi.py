"""The OpenAPI document, built from the route table and the request schemas."""

from __future__ import annotations

import re
from typing import Any

from server.api import API
from server.feedback import FEEDBACK_API
from server.minutes import MINUTES_API
from server.people import PEOPLE_API
from server.platform_attendance import PLATFORM_ATTENDANCE_API
from server.record import RECORD_API
from server.reports import REPORTS_API
from server.retention import RETENTION_API
from server.setup import SETUP_API
from server.staff import STAFF_API

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": [
                        "invalid",
                        "unauthorized",
                        "forbidden",
                        "not_found",
                        "conflict",
                        "too_large",
                        "rate_limited",
                        "unavailable",
                    ],
                },
                "message": {"type": "string"},
            },
        }
    },
}


# Answers that are files rather than JSON, by the path's extension.
_ANSWER_MEDIA = {"csv": "text/csv", "ics": "text/calendar", "zip": "application/zip"}


def _plain(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: the non-null branch of an optional one, without pydantic's title."""
    branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]
    schema = dict(branches[0]) if len(branches) == 1 else {"anyOf": branches}
    schema.pop("title", None)
    if "default" in prop and prop["default"] is not None:
        schema["default"] = prop["default"]
    return schema


def document() -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR}
    paths: dict[str, Any] = {}
    for operation in [
        *API,
        *STAFF_API,
        *SETUP_API,
        *MINUTES_API,
        *FEEDBACK_API,
        *RECORD_API,
        *RETENTION_API,
        *PLATFORM_ATTENDANCE_API,
        *PEOPLE_API,
        *REPORTS_API,
    ]:
        path, method, model, roles = operation.path, operation.method, operation.body, operation.roles
        op: dict[str, Any] = {"summary": operation.summary, "operationId": operation.handler.__name__}
        if roles is not None:
            # What server.routes enforces: x-roles for machines, the description for people.
            op["security"] = [{"bearer": []}, {"session": []}]
            op["x-roles"] = sorted(roles)
            op["description"] = "Who may: " + ", ".join(sorted(roles))
        params = re.findall(r"\{(\w+)\}", path)
        if params:
            op["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params
            ]
        if operation.query is not None:
            schema = operation.query.model_json_schema(by_alias=True)
            op.setdefault("parameters", []).extend(
                {"name": name, "in": "query", "required": False, "schema": _plain(prop)}
                for name, prop in schema["properties"].items()
            )
        if model is not None:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(schema.pop("$defs", {}))
            components[model.__name__] = schema
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
            }
        if operation.media == "multipart/form-data":  # a file upload, or (with a model) JSON instead
            op.setdefault("requestBody", {"required": True, "content": {}})["content"][operation.media] = {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}, "title": {"type": "string"}},
                    "required": ["file"],
                }
            }
        elif operation.media != "application/json":
            op["requestBody"] = {"required": True, "content": {operation.media: {"schema": {"type": "string"}}}}
        status, text = operation.answer
        media = _ANSWER_MEDIA.get(path.rsplit(".", 1)[-1], "application/json")
        if path == "/metrics":
            media = "text/plain"  # the Prometheus text format (version 0.0.4)
        if path.endswith(("/file", "/setup/download")) or path.startswith("/files/"):
            media = "application/octet-stream"  # a material's bytes, as an attachment; the setup check's download
        op["responses"] = {
            status: {
                "description": text,
                "content": {
                    media: {"schema": {"type": "object"} if media == "application/json" else {"type": "string"}}
                },
            }
        }
        if status == "204":  # no content: a client must not try to read a body
            del op["responses"][status]["content"]
        for code, why in (
            ("400", "Bad input"),
            ("401", "No or unknown token"),
            ("403", "Not allowed"),
            ("404", "Not found"),
            ("409", "Conflict"),
            ("503", "Unavailable"),
        ):
            op["responses"][code] = {
                "description": why,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        if operation.rate_limited:
            op["responses"]["429"] = {
                "description": "Too many sign-in attempts from this address; try again in a minute",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        if model is not None or "requestBody" in op:  # JSON bodies up to 1 MiB, a CSV file up to 5 MB
            too_large = "Body over 1 MiB" if model is not None else "File over 5 MB"
            if operation.media == "multipart/form-data":
                too_large = "File over COMPANION_MAX_UPLOAD_MB (50 MB unless set), or JSON over 1 MiB"
            op["responses"]["413"] = {
                "description": too_large,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Companion",
            "version": "0.1.0",
            "description": "HTTP API of the Companion live-session hub; realtime events: docs/protocol.md",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                # Staff signed in with a passkey; changes also need the X-CSRF-Token header (docs/auth.md).
                "session": {"type": "apiKey", "in": "cookie", "name": "companion_session"},
            },
        },
    }
