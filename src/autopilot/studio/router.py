"""Studio API: proven structures, the writer profile, drafts (offline or LLM) and the LinkedIn preview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from autopilot.accounts.deps import CallerBeforeWork, CurrentCaller
from autopilot.kit.deps import SessionDep, SettingsDep, TransactionsDep
from autopilot.kit.openapi import PROBLEMS, problem_response, problems
from autopilot.studio import schemas, service, structures
from autopilot.studio.models import WriterProfile
from autopilot.studio.preview import Preview, preview

router = APIRouter(prefix="/api/v1/studio", tags=["studio"], responses=PROBLEMS)

_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds the LLM server asked us to wait", "schema": {"type": "integer"}}
}
LLM_PROBLEMS: dict[int | str, dict[str, Any]] = {
    502: problem_response(502, "The LLM server failed, refused the key, or wrote a post that cannot be used"),
    503: {
        **problem_response(503, "The LLM server is rate limiting us, unreachable, or not configured"),
        "headers": _RETRY_AFTER,
    },
    504: problem_response(504, "The LLM server did not answer in time"),
}


def preview_out(found: Preview) -> schemas.PreviewOut:
    return schemas.PreviewOut(**found.__dict__)


def profile_out(row: WriterProfile | None) -> schemas.ProfileOut:
    profile = service.as_profile(row)
    return schemas.ProfileOut(
        topics=list(profile.topics),
        about=profile.about,
        audience=profile.audience,
        voice_examples=list(profile.voice_examples),
        voice=list(service.voice_notes(row)),
        updated_at=row.updated_at if row else None,
    )


@router.get("/structures")
async def list_structures(caller: CurrentCaller) -> list[schemas.StructureOut]:
    """The proven post structures, each with its parts and their alternative phrasings."""
    return [
        schemas.StructureOut(
            key=s.key,
            name=s.name,
            description=s.description,
            points=s.points,
            parts=[schemas.PartOut(name=name, phrasings=list(p)) for name, p in s.parts().items()],
        )
        for s in structures.STRUCTURES
    ]


@router.get("/profile")
async def get_profile(session: SessionDep, caller: CurrentCaller) -> schemas.ProfileOut:
    """Your writer profile (empty until you save one) and the voice cues read from your examples."""
    return profile_out(await service.profile_row(session, caller))


@router.put("/profile")
async def put_profile(data: schemas.ProfileIn, session: SessionDep, caller: CurrentCaller) -> schemas.ProfileOut:
    """Replace your writer profile: topics, about, audience and voice examples."""
    return profile_out(await service.save_profile(session, caller, data))


@router.post("/drafts", responses={**problems(404), **LLM_PROBLEMS})
async def draft(
    data: schemas.DraftIn, tx: TransactionsDep, settings: SettingsDep, caller: CallerBeforeWork
) -> schemas.DraftOut:
    """Write a post from a structure, a topic and key points, in your voice: `offline` (deterministic:
    the same inputs and seed give the same post) or `llm`. With `save`, it is stored as a content
    draft (`content_id`). An LLM failure is a 502/503/504 that says what to do; nothing is saved then."""
    drafted = await service.write_draft(tx, settings, caller, data)
    return schemas.DraftOut(
        text=drafted.text,
        structure=drafted.structure,
        engine="llm" if drafted.engine == "llm" else "offline",
        model=drafted.model,
        sandbox=drafted.sandbox,
        seed=drafted.seed,
        hashtags=[schemas.HashtagOut(tag=s.tag, source=s.source, uses=s.uses) for s in drafted.suggestions],
        notes=list(drafted.notes),
        voice=list(drafted.voice),
        preview=preview_out(drafted.preview),
        content_id=drafted.content_id,
    )


@router.post("/preview")
async def preview_post(data: schemas.PreviewIn, caller: CurrentCaller) -> schemas.PreviewOut:
    """How LinkedIn counts and shows the text: characters after escaping, the limit, and the feed's
    "…see more" cut (an estimate: LinkedIn does not document it)."""
    return preview_out(preview(data.text))
