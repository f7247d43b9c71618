"""The Studio page: pick a structure, give a topic and key points, generate (offline or with the LLM),
edit with a live LinkedIn preview (the "…see more" cut and the count, refreshed as you type through
HTMX), and save the post as a draft. The writer profile is edited on the same page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from autopilot.accounts.deps import PageCaller, optional_page_caller, page_caller
from autopilot.accounts.service import Caller
from autopilot.config import Settings
from autopilot.kit.deps import SessionDep, SettingsDep, TransactionsDep
from autopilot.kit.errors import AppError
from autopilot.studio import service, structures
from autopilot.studio.models import WriterProfile
from autopilot.studio.preview import preview
from autopilot.studio.schemas import SEED_MAX, DraftIn, ProfileIn
from autopilot.web.session import CsrfChecked
from autopilot.web.templating import Nav, readable, refuse, render

router = APIRouter(include_in_schema=False)
NAV = [Nav("studio", "Studio", "/studio")]
Field = Annotated[str, Form()]
PAGE = "/studio"
EXAMPLE_SEPARATOR = "---"  # a line of its own between two voice examples in the profile form
DONE = {"profile": "Writer profile saved: the next drafts follow it."}


def _typed(text: str) -> str:
    """A textarea's text as typed: browsers send its line breaks as CRLF (HTML's form encoding)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _sentence(exc: AppError) -> str:
    return exc.detail[:1].upper() + exc.detail[1:] + ("" if exc.detail.endswith(".") else ".")


def _engine_label(settings: Settings) -> str:
    _url, _key, model = settings.llm_endpoint
    return f"LLM ({model or 'no model set'})"


def _profile_form(row: WriterProfile | None) -> dict[str, str]:
    profile = service.as_profile(row)
    return {
        "topics": ", ".join(profile.topics),
        "about": profile.about,
        "audience": profile.audience,
        "voice_examples": f"\n{EXAMPLE_SEPARATOR}\n".join(profile.voice_examples),
    }


def _context(caller: Caller, settings: Settings, row: WriterProfile | None, **extra: Any) -> dict[str, Any]:
    return {
        "caller": caller,
        "active": "studio",
        "structures": structures.STRUCTURES,
        "engine_label": _engine_label(settings),
        "llm_sandbox": settings.llm_sandbox,
        "profile": _profile_form(row),
        "voice": service.voice_notes(row),
        "form": {},
        **extra,
    }


async def _caller_and_profile(request: Request, tx: TransactionsDep) -> tuple[Caller, WriterProfile | None]:
    # No request-wide session: generating may wait on an LLM server, and on SQLite a request-long
    # transaction would hold the only write lock meanwhile (decision 0008).
    async with tx.read() as session:
        caller = await page_caller(await optional_page_caller(request, session))
        return caller, await service.profile_row(session, caller)


@router.get("/studio", response_class=HTMLResponse)
async def studio_page(request: Request, session: SessionDep, settings: SettingsDep, caller: PageCaller) -> Response:
    row = await service.profile_row(session, caller)
    saved = request.query_params.get("saved", "")
    notice = DONE.get(request.query_params.get("done", ""))
    if saved:
        notice = "Draft saved. It is on the Posts page, where it can be approved and published."
    return render(request, "studio.html", **_context(caller, settings, row), notice=notice, saved=bool(saved))


@router.post("/studio/generate", response_class=HTMLResponse)
async def generate(
    request: Request,
    tx: TransactionsDep,
    settings: SettingsDep,
    _csrf: CsrfChecked,
    structure: Field = "",
    topic: Field = "",
    key_points: Field = "",
    engine: Field = "offline",
    seed: Field = "",
) -> Response:
    caller, row = await _caller_and_profile(request, tx)
    form = {"structure": structure, "topic": topic, "key_points": key_points, "engine": engine}
    points = [line.strip() for line in key_points.splitlines() if line.strip()]
    try:
        data = DraftIn.model_validate(
            {
                "structure": structure,
                "topic": topic,
                "key_points": points,
                "engine": engine,
                "seed": int(seed) if seed.isdigit() and int(seed) <= SEED_MAX else None,
            }
        )
        drafted = await service.write_draft(tx, settings, caller, data)
    except ValidationError as exc:
        context = _context(caller, settings, row, form=form)
        return render(request, "studio.html", 422, **context, error=readable(exc))
    except AppError as exc:  # the LLM server failed or wrote something unusable: nothing was saved
        context = _context(caller, settings, row, form=form)
        return render(request, "studio.html", exc.status, **context, error=_sentence(exc))
    context = _context(caller, settings, row, form=form)
    return render(request, "studio.html", **context, drafted=drafted, text=drafted.text, preview=drafted.preview)


@router.post("/studio/preview", response_class=HTMLResponse)
async def preview_part(request: Request, tx: TransactionsDep, _csrf: CsrfChecked, text: Field = "") -> Response:
    """The preview alone: what the page asks for as the post is edited."""
    caller, _row = await _caller_and_profile(request, tx)
    return render(request, "_studio_preview.html", caller=caller, preview=preview(_typed(text)[:20_000]))


@router.post("/studio/save", response_class=HTMLResponse)
async def save(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    text: Field = "",
) -> Response:
    text = _typed(text)
    try:
        content_id = await service.save_draft(session, caller, text)
    except ValidationError as exc:
        error = readable(exc)
    except AppError as exc:  # empty, or over LinkedIn's limit: the page says by how much
        error = _sentence(exc)
    else:
        return RedirectResponse(f"{PAGE}?saved={content_id}", status_code=303)
    row = await service.profile_row(session, caller)
    context = _context(caller, settings, row)
    raise refuse(request, "studio.html", 422, **context, text=text, preview=preview(text), error=error)


@router.post("/studio/profile", response_class=HTMLResponse)
async def save_profile(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    topics: Field = "",
    about: Field = "",
    audience: Field = "",
    voice_examples: Field = "",
) -> Response:
    examples = [e.strip() for e in _typed(voice_examples).split(f"\n{EXAMPLE_SEPARATOR}\n")]
    try:
        data = ProfileIn(
            topics=[t.strip() for t in topics.split(",") if t.strip()],
            about=_typed(about),
            audience=audience,
            voice_examples=[e for e in examples if e],
        )
        await service.save_profile(session, caller, data)
    except ValidationError as exc:
        row = await service.profile_row(session, caller)
        context = _context(caller, settings, row)
        context["profile"] = {"topics": topics, "about": about, "audience": audience, "voice_examples": voice_examples}
        raise refuse(request, "studio.html", 422, **context, error=readable(exc), profile_open=True) from exc
    return RedirectResponse(f"{PAGE}?done=profile", status_code=303)
