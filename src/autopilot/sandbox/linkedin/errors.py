"""LinkedIn's error bodies (contract §1.4, §3.2, §7), raised from anywhere and rendered as sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response


class LinkedInError(Exception):
    """An answer that ends the request: a body and status exactly as LinkedIn sends them."""

    def __init__(self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


def api_error(
    status: int, code: str | None, message: str, service_error_code: int | None = None, **headers: str
) -> LinkedInError:
    """The general envelope `{"status","serviceErrorCode"?,"code"?,"message"}` (§7)."""
    body: dict[str, Any] = {"status": status}
    if service_error_code is not None:
        body["serviceErrorCode"] = service_error_code
    if code is not None:
        body["code"] = code
    body["message"] = message
    return LinkedInError(status, body, {k.replace("_", "-"): v for k, v in headers.items()})


def access_denied(resource: str, method: str, version: str) -> LinkedInError:
    """403 for a missing scope: `Not enough permissions to access: {resource}.{METHOD}.{version}`."""
    return api_error(403, "ACCESS_DENIED", f"Not enough permissions to access: {resource}.{method}.{version}", 100)


def validation_failed(lines: list[str]) -> LinkedInError:
    """Rest.li schema validation, one `ERROR :: /path :: reason` line each (§3.2)."""
    return LinkedInError(422, {"message": "".join(f"ERROR :: {line}\n" for line in lines), "status": 422})


def bad_request(
    message: str, code: str, description: str, input_: Mapping[str, Any], status: int = 400
) -> LinkedInError:
    """The "new" error schema with errorDetails.inputErrors (§3.2, §8)."""
    return LinkedInError(
        status,
        {
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": f"com.linkedin.content.common.exception.BadRequestResponseException: {message}",
            "errorDetails": {"inputErrors": [{"description": description, "input": dict(input_), "code": code}]},
            "status": status,
        },
    )


def not_found() -> LinkedInError:
    return api_error(404, "NOT_FOUND", "Not Found")


def oauth_error(status: int, error: str, description: str) -> LinkedInError:
    """OAuth endpoints answer `{"error","error_description"}` (§1.4); invalid_request even for a bad code."""
    return LinkedInError(status, {"error": error, "error_description": description})


async def render(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LinkedInError)
    return exc.response()
