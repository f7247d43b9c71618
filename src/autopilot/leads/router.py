"""Leads API: the people worth a call, sorted by score; add one by hand; move a deal; import an archive."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Response

from autopilot.accounts.deps import CurrentCaller
from autopilot.kit.deps import SessionDep
from autopilot.kit.inputs import Limit, Offset
from autopilot.kit.openapi import PROBLEMS, problems
from autopilot.leads import importer, schemas, service
from autopilot.leads.models import Lead

router = APIRouter(prefix="/api/v1/leads", tags=["leads"], responses=PROBLEMS)


def lead_out(lead: Lead) -> schemas.LeadOut:
    return schemas.LeadOut.model_validate(lead)


@router.get("")
async def list_leads(
    session: SessionDep, caller: CurrentCaller, limit: Limit = 100, offset: Offset = 0
) -> list[schemas.LeadOut]:
    """Your leads, best score first; each score with the reasons for it."""
    return [lead_out(lead) for lead in await service.listed(session, caller.org_id, limit, offset)]


@router.post("", status_code=201, responses={200: {"description": "The person was already a lead"}})
async def add_lead(
    data: schemas.LeadIn, response: Response, session: SessionDep, caller: CurrentCaller
) -> schemas.LeadOut:
    """Add a person by hand. Someone already known (same e-mail, profile URL, or name at the same
    company) is not added twice: their lead is answered, with 200."""
    found = await service.add_by_hand(session, caller.org_id, data)
    if not found.created:
        response.status_code = 200
    return lead_out(found.lead)


@router.get("/summary")
async def summary(session: SessionDep, caller: CurrentCaller) -> schemas.Summary:
    """Open pipeline value and won value (in cents, per currency), and leads per stage."""
    found = await service.totals(session, caller.org_id)
    return schemas.Summary(open_value=found.open_value, won_value=found.won_value, counts=found.counts)


@router.post("/import", responses=problems(413))
async def import_archive(
    session: SessionDep,
    caller: CurrentCaller,
    form: Annotated[schemas.ImportForm, Form(media_type="multipart/form-data")],
) -> schemas.ImportOut:
    """Import LinkedIn's data archive (.zip), or its messages.csv, Connections.csv or Invitations.csv:
    inbound messages, incoming invitations and connections become signals. Importing again adds
    nothing; a damaged or foreign file is refused whole (422)."""
    data = await form.file.read()
    hints = [h for h in (form.your_name, caller.user.name) if h.strip()]
    outcome = await importer.import_archive(session, caller.org_id, data, form.file.filename or "", hints)
    return schemas.ImportOut(
        files=outcome.files,
        signals_added=outcome.signals_added,
        leads_created=outcome.leads_created,
        skipped=outcome.skipped,
    )


@router.get("/{lead_id}", responses=problems(404))
async def get_lead(lead_id: uuid.UUID, session: SessionDep, caller: CurrentCaller) -> schemas.LeadDetail:
    """One lead with its signals (newest first) and the stages it may move to."""
    lead = await service.leads.get(session, caller.org_id, lead_id)
    signals = [schemas.SignalOut.model_validate(s) for s in await service.signals_of(session, lead)]
    return schemas.LeadDetail.model_validate(
        {**lead_out(lead).model_dump(), "signals": signals, "next_stages": list(service.NEXT_STAGES[lead.stage])}
    )


@router.patch("/{lead_id}", responses=problems(404, 409))
async def edit_lead(
    lead_id: uuid.UUID, data: schemas.LeadEdit, session: SessionDep, caller: CurrentCaller
) -> schemas.LeadOut:
    """Change the stage (new → contacted → call_booked → proposal → won / lost; 409 off the
    pipeline), the deal's value in cents, its currency, or the notes."""
    return lead_out(await service.edit(session, caller.org_id, lead_id, data))
