"""The Studio: the writer's profile, and drafts written from it — offline or by an LLM — with hashtag
suggestions from the writer's own posts, optionally saved as content drafts.

A draft may wait on an LLM server for many seconds, so it runs in short transactions (decision 0008):
read the profile and history, write with nothing open, then save in a transaction of its own. Any
failure before the save (a server error, an unusable answer) leaves nothing behind."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.accounts.service import Caller
from autopilot.config import Settings
from autopilot.content import service as content
from autopilot.content.schemas import ContentIn
from autopilot.kit.db import upsert_insert
from autopilot.kit.deps import Transactions
from autopilot.kit.repository import TenantRepository
from autopilot.kit.time import utcnow
from autopilot.linkedin import service as linkedin
from autopilot.studio import generator, hashtags, llm
from autopilot.studio.models import WriterProfile
from autopilot.studio.preview import Preview, preview
from autopilot.studio.schemas import SEED_MAX, DraftIn, ProfileIn
from autopilot.studio.voice import read_voice

HISTORY_POSTS = 200  # the author's most recent posts read for their hashtag habits


class Profiles(TenantRepository[WriterProfile]):
    model = WriterProfile
    noun = "writer profile"


profiles = Profiles()


@dataclass(frozen=True)
class Drafted:
    """A written post and what the page or the API shows about it."""

    text: str
    structure: str
    engine: str
    model: str | None
    sandbox: bool
    seed: int
    suggestions: tuple[hashtags.Suggestion, ...]
    notes: tuple[str, ...]
    voice: tuple[str, ...]
    preview: Preview
    content_id: uuid.UUID | None


async def profile_row(session: AsyncSession, caller: Caller) -> WriterProfile | None:
    """The caller's stored writer profile, if they saved one."""
    query = profiles.scoped(caller.org_id).where(WriterProfile.user_id == caller.user.id)
    found: WriterProfile | None = await session.scalar(query)
    return found


def as_profile(row: WriterProfile | None) -> generator.Profile:
    """What the generators read of a stored profile (an empty one when none is stored)."""
    if row is None:
        return generator.Profile()
    return generator.Profile(
        topics=tuple(str(t) for t in row.topics),
        about=row.about,
        audience=row.audience,
        voice_examples=tuple(str(e) for e in row.voice_examples),
    )


def voice_notes(row: WriterProfile | None) -> tuple[str, ...]:
    return read_voice(as_profile(row).voice_examples).notes


async def save_profile(session: AsyncSession, caller: Caller, data: ProfileIn) -> WriterProfile:
    """Replace the caller's writer profile (created on first save; one per user, even under races)."""
    now = utcnow()
    values = {
        "topics": data.topics,
        "about": data.about.strip(),
        "audience": data.audience.strip(),
        "voice_examples": data.voice_examples,
        "updated_at": now,
    }
    insert = upsert_insert(session, WriterProfile).values(
        id=uuid.uuid4(), org_id=caller.org_id, user_id=caller.user.id, created_at=now, **values
    )
    await session.execute(insert.on_conflict_do_update(index_elements=["user_id"], set_=values))
    row = await profile_row(session, caller)
    assert row is not None
    await session.refresh(row)  # the upsert bypassed the identity map
    return row


async def past_posts(session: AsyncSession, caller: Caller) -> list[hashtags.PastPost]:
    """The caller's own recent posts (drafts and published alike), for their hashtag habits."""
    recent = await content.list_recent(session, caller, limit=HISTORY_POSTS)
    return [hashtags.PastPost(item.text, item.created_at) for item in recent if item.author_id == caller.user.id]


async def write_draft(tx: Transactions, settings: Settings, caller: Caller, data: DraftIn) -> Drafted:
    """Write a post from the structure, the request and the caller's profile, with the offline
    generator or the LLM; with `save`, store it as a content draft. Nothing is stored on failure."""
    structure = generator.structure_of(data.structure)
    async with tx.read() as session:
        row = await profile_row(session, caller)
        history = await past_posts(session, caller)
        if data.integration_id is not None:  # another organization's account: 404 before any work
            await linkedin.integrations.get(session, caller.org_id, data.integration_id)
    profile = as_profile(row)
    seed = data.seed if data.seed is not None else secrets.randbelow(SEED_MAX + 1)
    suggestions = hashtags.suggest(
        history, data.topic, data.key_points, profile.topics, now=utcnow(), count=data.hashtags
    )
    request = generator.Request(
        data.structure, data.topic, tuple(data.key_points), seed, tuple(s.tag for s in suggestions)
    )
    model: str | None = None
    if data.engine == "llm":
        written = await llm.write(settings, structure, profile, request)
        text, notes, model = written.text, written.notes, written.model
        suggestions = [s for s in suggestions if s.tag in written.hashtags]
    else:
        post = generator.write(profile, request)
        text, notes = post.text, post.notes
    content_id = None
    if data.save:
        async with tx.write() as session:
            item = await content.create(session, caller, ContentIn(text=text, integration_id=data.integration_id))
            content_id = item.id
    return Drafted(
        text=text,
        structure=structure.key,
        engine=data.engine,
        model=model,
        sandbox=data.engine == "llm" and settings.llm_sandbox,
        seed=seed,
        suggestions=tuple(suggestions),
        notes=tuple(notes),
        voice=read_voice(profile.voice_examples).notes,
        preview=preview(text),
        content_id=content_id,
    )


async def save_draft(session: AsyncSession, caller: Caller, text: str) -> uuid.UUID:
    """Store the (edited) post as a content draft; its id."""
    item = await content.create(session, caller, ContentIn(text=text))
    return item.id
