"""Domain errors that carry their HTTP status, rendered as application/problem+json (RFC 9457)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from autopilot.kit.logging import log

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """Base of every error a user may see; `detail` is the readable sentence."""

    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class Answered(AppError):
    """An error whose answer is ready (a form page shown again with its message). Raising it,
    rather than returning the page, lets the edge roll the request's transaction back."""

    def __init__(self, response: Response, detail: str) -> None:
        super().__init__(detail)
        self.status = response.status_code
        self.response = response


class BadRequest(AppError):
    status, title = 400, "Bad request"


class Unauthorized(AppError):
    status, title = 401, "Unauthorized"


class Forbidden(AppError):
    status, title = 403, "Forbidden"


class NotFound(AppError):
    status, title = 404, "Not found"


class Conflict(AppError):
    status, title = 409, "Conflict"


class PreconditionFailed(AppError):
    """The caller acted on a version that is no longer current (If-Match); `current` says what is."""

    status, title = 412, "Precondition failed"


class PreconditionRequired(AppError):
    """A change that must name the version it was based on (If-Match) did not (RFC 6585 §3)."""

    status, title = 428, "Precondition required"


class PayloadTooLarge(AppError):
    status, title = 413, "Payload too large"


class Unprocessable(AppError):
    status, title = 422, "Unprocessable content"


class TooManyRequests(AppError):
    status, title = 429, "Too many requests"


def problem(
    status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title or HTTPStatus(status).phrase, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def describe_validation(errors: list[dict[str, Any]] | Any) -> tuple[str, list[dict[str, str]]]:
    """Turn pydantic errors into one readable sentence plus a per-field list."""
    fields = []
    for err in errors:
        msg = str(err.get("msg", "is invalid"))
        if err.get("type") == "json_invalid":
            msg = "the request body is not valid JSON"
        elif err.get("type") == "missing":
            msg = "is required"
        fields.append({"field": _field_path(err.get("loc", ())), "message": msg.removeprefix("Value error, ")})
    if any(f["message"] == "the request body is not valid JSON" for f in fields):
        return "The request body is not valid JSON.", fields
    sentence = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return f"Invalid input — {sentence}.", fields


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> Response:
        if isinstance(exc, Answered):
            return exc.response
        if 300 <= exc.status < 400:
            return RedirectResponse(exc.headers.get("Location", "/"), status_code=exc.status)
        return problem(exc.status, exc.detail, title=exc.title, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, fields = describe_validation(exc.errors())
        return problem(422, detail, errors=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such resource."
        elif exc.status_code == 400 and detail == "There was an error parsing the body":  # e.g. not UTF-8
            detail = "The request body could not be read: send JSON, encoded as UTF-8."
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_error(request, exc)


def unexpected_error(request: Request, exc: BaseException) -> JSONResponse:
    """Log an exception nobody handled, once, with its traceback, then answer 500 problem+json.
    The line holds the method and path (no query string, no headers: they may carry secrets);
    the request id comes from the logging context."""
    log.error("unexpected error", method=request.method, path=request.url.path, exc_info=exc)
    return problem(500, "Something went wrong on our side; it has been logged.")
