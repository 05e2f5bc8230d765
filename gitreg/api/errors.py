"""JSON error responses: one body shape for every failure the API returns."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from gitreg import names
from gitreg.api.payloads import RELEASE_TAG_PATTERN, ErrorBody
from gitreg.errors import GitregError, UsageError
from gitreg.versions import parse_version

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A failure with its HTTP status, raised by routes and turned into ``ErrorBody``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint
        self.headers = headers


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    hint: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=code, message=message, hint=hint)
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI ``responses`` entries for ``statuses``, all with ``ErrorBody``."""
    return {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses
    }


_DESCRIPTIONS = {
    400: "The body is not valid JSON.",
    401: "The X-API-Key header is missing or not a known key.",
    403: "The API key is valid but may not do this.",
    404: "No such entry, or the entry belongs to a client the API key cannot see.",
    409: "The registry rejected the request, such as a version that already exists.",
    422: "A parameter or the body is invalid.",
    500: "A manifest on the served ref is invalid, or the server's key file is unusable.",
    503: "The served ref no longer exists, or another writer held the registry lock too long.",
}

def _check_release_tag(tag: str) -> str:
    """Return ``tag`` if the API's release tag pattern admits it."""
    if re.fullmatch(RELEASE_TAG_PATTERN, tag):
        return tag
    raise UsageError(
        f"release tag '{tag}' is not allowed",
        hint="use parts of letters, digits, '.', '_', '+' and '-', separated by '/', "
        "such as v1.2.0",
    )


# Core checks that word a rejected parameter better than a regular-expression mismatch.
_PARAMETER_CHECKS: dict[str, Callable[[str], object]] = {
    "client": names.check_client,
    "version": parse_version,
    "name": names.check_name,
    "release_tag": _check_release_tag,
}


def _where(location: tuple[Any, ...]) -> str:
    """Name a pydantic error location as a reader would: ``field 'metrics.rmse'``."""
    source, path = (location[0], location[1:]) if location else ("body", ())
    dotted = ".".join(str(part) for part in path)
    if not dotted:
        return "the body" if source == "body" else str(source)
    kinds = {"body": "field", "query": "query parameter", "path": "path parameter"}
    return f"{kinds.get(str(source), str(source))} '{dotted}'"


def _parameter_message(location: tuple[Any, ...], message: str, value: object) -> str:
    where = _where(location)
    if len(location) == 2 and location[0] in ("query", "path", "body") and isinstance(value, str):
        check = _PARAMETER_CHECKS.get(str(location[1]))
        if check is not None:
            try:
                check(value)
            except GitregError as exc:
                return f"{where}: {exc}"
    if message.startswith("String should match pattern"):
        # The pattern itself is long and unreadable, and /openapi.json states it.
        return f"{where}: {value!r} does not match the pattern that /openapi.json gives"
    return f"{where}: {message}"


def _problem_message(problem: Mapping[str, Any]) -> str:
    location = tuple(problem["loc"])
    value = problem.get("input")
    if location == ("body", "artifacts") and problem["type"] in ("too_long", "too_short"):
        count = len(value) if isinstance(value, list) else 0
        return (
            f"field 'artifacts' holds {count} paths, and it must hold exactly 1: "
            "an entry records one artifact"
        )
    return _parameter_message(location, problem["msg"], value)


def _merge_union_members(problems: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return ``problems`` with each value that fits no member of a union as one problem.

    pydantic reports such a value once per union member, with the member's name
    appended to the location: ``body metrics rmse int``, ``body metrics rmse float``.
    """
    merged: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for index, problem in enumerate(problems):
        location = tuple(problem["loc"])
        key = location[:-1] if len(location) > 2 else (index,)
        merged.setdefault(key, []).append(problem)
    result: list[Mapping[str, Any]] = []
    for key, members in merged.items():
        if len(members) == 1:
            result.append(members[0])
            continue
        expected = " or ".join(str(m["msg"]).removeprefix("Input should be ") for m in members)
        result.append({**members[0], "loc": key, "msg": f"Input should be {expected}"})
    return result


_JSON_HINT = "send one JSON object with the header Content-Type: application/json"


async def _validation_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    first = problems[0]
    if first["type"] == "json_invalid":
        # FastAPI reports a body it cannot parse as a validation error at ("body", offset).
        offset = first["loc"][-1]
        reason = first.get("ctx", {}).get("error", "invalid JSON")
        message = f"the body is not valid JSON: {reason} at character {offset}"
        return error_response(400, "invalid_request", message, hint=_JSON_HINT)
    if tuple(first["loc"]) == ("body",):
        content_type = request.headers.get("content-type", "")
        if first["type"] == "missing":
            return error_response(422, "invalid_request", "the body is missing", hint=_JSON_HINT)
        if "json" not in content_type:
            # FastAPI parses a body as JSON only when its Content-Type says so.
            message = f"the body is not JSON (Content-Type '{content_type or 'missing'}')"
            return error_response(400, "invalid_request", message, hint=_JSON_HINT)
    groups = _merge_union_members(problems)
    message = _problem_message(groups[0])
    if len(groups) > 1:
        message += f" (and {len(groups) - 1} more problems)"
    return error_response(422, "invalid_request", message, hint="see /docs for the parameters")


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, hint=exc.hint, headers=exc.headers)


def _http_error_handler(*, writes_enabled: bool) -> Callable[[Request, Exception], Any]:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        hint = None
        if exc.status_code == 405 and request.method == "POST" and not writes_enabled:
            hint = (
                "writes are disabled on this server; "
                "start it with 'gitreg serve --allow-writes --keys FILE'"
            )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        code = _HTTP_ERROR_CODES.get(exc.status_code, "http_error")
        return error_response(
            exc.status_code,
            code,
            f"{request.method} {request.url.path}: {exc.detail}",
            hint=hint,
            headers=headers,
        )

    return handle


_HTTP_ERROR_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}


def _allowed_methods(request: Request) -> str:
    """Return every method of every route on the request's path.

    Starlette's own 405 names only the first route that matched the path, so a
    path with a GET and a POST route would send ``Allow: GET``.
    """
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises the exception after this response, so uvicorn logs the traceback.
    return error_response(
        500,
        "internal_error",
        f"{request.method} {request.url.path} failed: unexpected {type(exc).__name__}",
        hint="this is a bug in gitreg; the server log has the traceback",
    )


def install_handlers(app: FastAPI, *, writes_enabled: bool) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(
        StarletteHTTPException, _http_error_handler(writes_enabled=writes_enabled)
    )
