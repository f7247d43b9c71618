"""Web pages for accounts: sign up, log in, log out, settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from autopilot.accounts import schemas, service
from autopilot.accounts.deps import MaybeCaller, PageCaller, client_address
from autopilot.accounts.models import TokenKind
from autopilot.kit.deps import SessionDep, SettingsDep, TransactionsDep
from autopilot.kit.errors import AppError
from autopilot.web.session import CsrfChecked, rotate_csrf_token
from autopilot.web.templating import Nav, readable, refuse, render, zone_names

router = APIRouter(include_in_schema=False)
NAV = [Nav("settings", "Settings", "/settings")]
Field = Annotated[str, Form()]


def _start_web_session(request: Request, raw_token: str) -> RedirectResponse:
    request.session["token"] = raw_token
    rotate_csrf_token(request)
    return RedirectResponse("/", status_code=303)


@router.get("/signup", response_class=HTMLResponse)
async def signup_form(request: Request, caller: MaybeCaller) -> Response:
    if caller:
        return RedirectResponse("/", status_code=303)
    return render(request, "signup.html", zones=zone_names(), form={})


@router.post("/signup", response_class=HTMLResponse)
async def signup(
    request: Request,
    tx: TransactionsDep,
    settings: SettingsDep,
    _csrf: CsrfChecked,
    email: Field = "",
    password: Field = "",
    organization_name: Field = "",
    name: Field = "",
    timezone: Field = "UTC",
) -> Response:
    form = {"email": email, "organization_name": organization_name, "name": name, "timezone": timezone}
    try:
        body = schemas.SignupIn(
            email=email, password=password, organization_name=organization_name, name=name, timezone=timezone or None
        )
        await service.signup(tx, settings, **body.model_dump())
    except ValidationError as exc:
        raise refuse(request, "signup.html", 422, zones=zone_names(), form=form, error=readable(exc)) from exc
    except AppError as exc:
        raise refuse(request, "signup.html", exc.status, zones=zone_names(), form=form, error=exc.detail) from exc
    # The same page whether or not the e-mail had an account (no enumeration): log in next.
    return render(request, "login.html", form={"email": body.email}, notice=service.SIGNUP_ANSWER)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, caller: MaybeCaller) -> Response:
    if caller:
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html", form={})


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    tx: TransactionsDep,
    settings: SettingsDep,
    _csrf: CsrfChecked,
    email: Field = "",
    password: Field = "",
) -> Response:
    try:
        body = schemas.LoginIn(email=email, password=password)
        issued = await service.login(
            tx,
            email=body.email,
            password=body.password,
            client=client_address(request),
            settings=settings,
            kind=TokenKind.WEB,  # the cookie's token opens pages only, never the API
        )
    except ValidationError as exc:
        raise refuse(request, "login.html", 422, form={"email": email}, error=readable(exc)) from exc
    except AppError as exc:
        raise refuse(request, "login.html", exc.status, form={"email": email}, error=exc.detail) from exc
    return _start_web_session(request, issued.raw)


@router.post("/logout")
async def logout(request: Request, session: SessionDep, caller: MaybeCaller, _csrf: CsrfChecked) -> Response:
    if caller:
        await service.logout(session, caller)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(request: Request, caller: PageCaller) -> Response:
    return render(request, "settings.html", caller=caller, zones=zone_names(), active="settings")


@router.post("/settings", response_class=HTMLResponse)
async def save_settings(
    request: Request,
    session: SessionDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    name: Field = "",
    timezone: Field = "",
) -> Response:
    try:
        body = schemas.ProfileIn(name=name, timezone=timezone or None)
    except ValidationError as exc:
        raise refuse(
            request, "settings.html", 422, caller=caller, zones=zone_names(), active="settings", error=readable(exc)
        ) from exc
    await service.update_profile(session, caller, name=body.name, timezone=body.timezone)
    return render(
        request, "settings.html", caller=caller, zones=zone_names(), active="settings", notice="Settings saved."
    )
