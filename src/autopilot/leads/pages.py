"""The Leads page: the pipeline's value and the won total at the top, then the people worth a call,
best score first, with the reasons for their score and their last signal; add a person by hand,
move a deal along the pipeline and set its value, and import LinkedIn's data archive."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.deps import PageCaller
from autopilot.accounts.service import Caller
from autopilot.kit.deps import SessionDep
from autopilot.kit.errors import Answered, AppError, NotFound, Unprocessable
from autopilot.leads import importer, service
from autopilot.leads.models import STAGES
from autopilot.leads.schemas import LeadEdit, LeadIn, cents_from_text
from autopilot.web.session import CsrfChecked
from autopilot.web.templating import Nav, readable, render

router = APIRouter(include_in_schema=False)
NAV = [Nav("leads", "Leads", "/leads")]
Field = Annotated[str, Form()]
STAGE_LABELS = {
    "new": "New",
    "contacted": "Contacted",
    "call_booked": "Call booked",
    "proposal": "Proposal",
    "won": "Won",
    "lost": "Lost",
}
DONE = {"added": "Added.", "known": "Already a lead: the note was added to them.", "saved": "Saved."}


def money(cents: int, currency: str) -> str:
    """12000050, "EUR" → "120,000.50 EUR"."""
    return f"{cents // 100:,}.{cents % 100:02d} {currency}"


def money_lines(values: dict[str, int]) -> list[str]:
    return [money(cents, currency) for currency, cents in sorted(values.items())] or [money(0, "EUR")]


async def _page(
    request: Request, session: AsyncSession, caller: Caller, status_code: int = 200, **context: Any
) -> HTMLResponse:
    totals = await service.totals(session, caller.org_id)
    leads = await service.listed(session, caller.org_id, limit=200)
    return render(
        request,
        "leads.html",
        status_code,
        caller=caller,
        active="leads",
        open_value=money_lines(totals.open_value),
        won_value=money_lines(totals.won_value),
        counts=totals.counts,
        leads=leads,
        stages=STAGE_LABELS,
        next_stages=service.NEXT_STAGES,
        money=money,
        **context,
    )


async def _refusal(request: Request, session: AsyncSession, caller: Caller, exc: AppError, **context: Any) -> Answered:
    """The page again with the error said plainly; raising it rolls the request's changes back."""
    sentence = exc.detail[:1].upper() + exc.detail[1:] + ("" if exc.detail.endswith(".") else ".")
    page = await _page(request, session, caller, exc.status, error=sentence, **context)
    return Answered(page, exc.detail)


@router.get("/leads", response_class=HTMLResponse)
async def leads_page(request: Request, session: SessionDep, caller: PageCaller) -> Response:
    notice = DONE.get(request.query_params.get("done", ""))
    return await _page(request, session, caller, notice=notice, form={})


@router.post("/leads", response_class=HTMLResponse)
async def add(
    request: Request,
    session: SessionDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    name: Field = "",
    profile_url: Field = "",
    email: Field = "",
    company: Field = "",
    title: Field = "",
    notes: Field = "",
    value: Field = "",
    currency: Field = "EUR",
) -> Response:
    """Add a person by hand (or find them, when known)."""
    form = {"name": name, "profile_url": profile_url, "email": email, "company": company, "title": title}
    form |= {"notes": notes, "value": value, "currency": currency}
    try:
        try:
            cents = cents_from_text(value) if value.strip() else None
            data = LeadIn(
                name=name,
                profile_url=profile_url,
                email=email,
                company=company,
                title=title,
                notes=notes,
                value_cents=cents,
                currency=currency or None,
            )
        except ValidationError as exc:
            raise Unprocessable(readable(exc)) from exc
        except ValueError as exc:
            raise Unprocessable(f"value: {exc}") from exc
        found = await service.add_by_hand(session, caller.org_id, data)
    except AppError as exc:
        raise await _refusal(request, session, caller, exc, form=form) from exc
    return RedirectResponse(f"/leads?done={'added' if found.created else 'known'}#lead-{found.lead.id}", 303)


@router.post("/leads/import", response_class=HTMLResponse)
async def import_archive(
    request: Request,
    session: SessionDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    archive: Annotated[UploadFile | None, File()] = None,
    your_name: Field = "",
) -> Response:
    """Import LinkedIn's data archive, or one of its CSV files; the page says what it found."""
    try:
        if archive is None or not archive.filename:
            raise Unprocessable("choose the archive (.zip) or a CSV file from it")
        data = await archive.read()
        hints = [h for h in (your_name, caller.user.name) if h.strip()]
        outcome = await importer.import_archive(session, caller.org_id, data, archive.filename, hints)
    except AppError as exc:
        raise await _refusal(request, session, caller, exc, form={}) from exc
    notice = (
        f"Imported {', '.join(outcome.files)}: {outcome.signals_added} new signals, "
        f"{outcome.leads_created} new leads, {outcome.skipped} rows not signals (your own, no buying interest, "
        "or imported before)."
    )
    return await _page(request, session, caller, notice=notice, form={})


@router.post("/leads/{lead_id}", response_class=HTMLResponse)
async def save(
    lead_id: str,
    request: Request,
    session: SessionDep,
    caller: PageCaller,
    _csrf: CsrfChecked,
    stage: Field = "",
    value: Field = "",
    currency: Field = "",
    notes: Annotated[str | None, Form()] = None,
) -> Response:
    """Move a deal along the pipeline, set its value, currency or notes."""
    try:
        try:
            wanted = uuid.UUID(lead_id)
        except ValueError:
            raise NotFound(f"no lead with id {lead_id[:40]}") from None
        try:
            cents = cents_from_text(value) if value.strip() else None
            edit = LeadEdit(
                stage=stage if stage in STAGES else None,
                value_cents=cents,
                currency=currency or None,
                notes=notes,
            )
        except ValidationError as exc:
            raise Unprocessable(readable(exc)) from exc
        except ValueError as exc:
            raise Unprocessable(f"value: {exc}") from exc
        if stage and stage not in STAGES:
            raise Unprocessable(f"{stage[:20]!r} is not a stage")
        lead = await service.edit(session, caller.org_id, wanted, edit)
    except AppError as exc:
        raise await _refusal(request, session, caller, exc, form={}) from exc
    return RedirectResponse(f"/leads?done=saved#lead-{lead.id}", 303)
