"""Leads: find or make the person behind a signal, score them, and move their deal through the pipeline.

`add_signal` is the entry point any domain calls (the archive import here, later the conversations
engine): it finds the person by e-mail, then normalised profile URL, then normalised full name at
the same company, or creates them — with INSERT … ON CONFLICT on the unique keys, so concurrent
calls for one new person make one lead — adds the signal and rescores, all in the caller's
transaction (nothing here commits)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.kit.db import upsert_insert
from autopilot.kit.errors import Conflict, Unprocessable
from autopilot.kit.repository import TenantRepository
from autopilot.kit.time import as_utc, utcnow
from autopilot.leads import scoring
from autopilot.leads.models import OPEN_STAGES, STAGES, Lead, LeadSignal
from autopilot.leads.schemas import LeadEdit, LeadIn

# Where each stage may go. Closed deals reopen one step back: a won deal to its proposal (a mistake
# or a deal that fell through), a lost one to new (they came back).
NEXT_STAGES: dict[str, tuple[str, ...]] = {
    "new": ("contacted", "call_booked", "proposal", "won", "lost"),
    "contacted": ("call_booked", "proposal", "won", "lost"),
    "call_booked": ("contacted", "proposal", "won", "lost"),  # a cancelled call goes back to contacted
    "proposal": ("call_booked", "won", "lost"),
    "won": ("proposal",),
    "lost": ("new",),
}
MANUAL_INTENT = 50  # someone you add yourself is a lead by your own judgement
_SOURCE = re.compile(r"^[a-z][a-z_]{1,31}$")
_COMPANY_SUFFIXES = {"inc", "llc", "ltd", "limited", "gmbh", "sa", "sas", "sarl", "bv", "ag", "plc", "corp", "co"}
DEFAULT_CURRENCY = "EUR"
_LENGTHS = {"name": 200, "profile_url": 500, "email": 320, "company": 200, "title": 200}  # the columns' sizes


class Leads(TenantRepository[Lead]):
    model = Lead
    noun = "lead"


leads = Leads()


@dataclass(frozen=True)
class PersonRef:
    """Who a signal is from, as much as the source knows."""

    name: str = ""
    profile_url: str = ""
    email: str = ""
    company: str = ""
    title: str = ""


def plain_name(text: str) -> str:
    """Lower case, accents and punctuation dropped, single spaces: "Zoë  O'Brien" → "zoe o brien"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


def email_key(email: str) -> str | None:
    found = email.strip().casefold()
    return found or None


def profile_key(url: str) -> str | None:
    """A profile URL without scheme, "www.", country subdomain, query, fragment or trailing slash."""
    raw = url.strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw if "://" in raw else f"https://{raw}")
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:  # not a URL at all (an unclosed "[" of an IPv6 host): keep it as typed
        return raw.casefold()[:500]
    if host.endswith(".linkedin.com"):  # de.linkedin.com/in/x is linkedin.com/in/x
        host = "linkedin.com"
    path = unquote(parts.path).rstrip("/").casefold()
    return f"{host}{path}"[:500] or None


def name_key(name: str, company: str) -> str | None:
    """The full name at a company ("" when unknown): two namesakes elsewhere stay two people."""
    plain = plain_name(name)
    if not plain:
        return None
    words = [w for w in plain_name(company).split() if w not in _COMPANY_SUFFIXES]
    return f"{plain}|{' '.join(words)}"[:420]


@dataclass(frozen=True)
class Keys:
    email: str | None
    profile: str | None
    name: str | None

    @classmethod
    def of(cls, person: PersonRef) -> Keys:
        return cls(email_key(person.email), profile_key(person.profile_url), name_key(person.name, person.company))


def signal_intent(source: str, text: str) -> scoring.Intent:
    """A signal's intent: its words, and for a person added by hand at least MANUAL_INTENT."""
    found = scoring.intent_of(text)
    if source == "manual":
        return scoring.Intent(max(found.score, MANUAL_INTENT), (*found.reasons, "added by you"))
    return found


@dataclass(frozen=True)
class Recorded:
    lead: Lead
    created: bool  # a new person
    added: bool  # a new signal (False: this signal was recorded before)


async def add_signal(
    session: AsyncSession, org_id: uuid.UUID, person: PersonRef, source: str, text: str, at: datetime
) -> Lead:
    """Record a sign of interest from *person*: find them (e-mail, profile URL, name at company) or
    create them, add the signal and rescore them, in the caller's transaction."""
    return (await record(session, org_id, person, source, text, at)).lead


async def record(
    session: AsyncSession,
    org_id: uuid.UUID,
    person: PersonRef,
    source: str,
    text: str,
    at: datetime,
    *,
    natural_key: str | None = None,
) -> Recorded:
    """`add_signal` with its outcome. A signal with a *natural_key* (what it came from, e.g. an
    archive's message) is recorded once: a second time changes nothing."""
    if not _SOURCE.match(source):
        raise Unprocessable(f"{source[:40]!r} is not a signal source (lower-case letters and _)")
    keys = Keys.of(person)
    if keys == Keys(None, None, None):
        raise Unprocessable("a lead needs a name, a profile URL or an e-mail")
    lead = await find(session, org_id, keys)
    created = False
    if lead is None:
        lead, created = await _create(session, org_id, person, keys)
    if not created:
        lead = await _lock(session, lead)
    intent = signal_intent(source, text)
    digest = hashlib.sha256(natural_key.encode()).hexdigest() if natural_key else None
    stored = await session.execute(
        upsert_insert(session, LeadSignal)
        .values(
            id=uuid.uuid4(),
            org_id=org_id,
            lead_id=lead.id,
            source=source,
            text=text,
            at=at,
            natural_key=digest,
            intent=intent.score,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(LeadSignal.id)
    )
    if stored.scalar() is None:  # recorded before: nothing changes
        return Recorded(lead, created, False)
    await _complete(session, lead, person, keys)
    if lead.last_signal_at is None or as_utc(at) >= as_utc(lead.last_signal_at):
        lead.last_signal_at, lead.last_signal_text, lead.last_signal_source = at, text, source
    await rescore(session, lead)
    return Recorded(lead, created, True)


async def find(session: AsyncSession, org_id: uuid.UUID, keys: Keys) -> Lead | None:
    """The organization's lead with the same e-mail, else profile URL, else name at company."""
    matches = [
        column == value
        for column, value in (
            (Lead.email_key, keys.email),
            (Lead.profile_key, keys.profile),
            (Lead.name_key, keys.name),
        )
        if value is not None
    ]
    if not matches:
        return None
    found = list((await session.scalars(leads.scoped(org_id).where(or_(*matches)))).all())
    for attribute, value in (("email_key", keys.email), ("profile_key", keys.profile), ("name_key", keys.name)):
        for lead in found:
            if value is not None and getattr(lead, attribute) == value:
                return lead
    return None


async def _lock(session: AsyncSession, lead: Lead) -> Lead:
    """The lead again, locked until the transaction ends (PostgreSQL; SQLite has one writer anyway)
    and as committed now. Concurrent signals for one person take turns: without the lock, two of
    them each hold a key-share lock through their new signal while updating the lead's unique keys,
    which needs the row exclusively: a deadlock. And the last signal is compared with fresh data."""
    locked = await session.scalar(
        select(Lead)
        .where(Lead.id == lead.id, Lead.org_id == lead.org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:  # deleted meanwhile (its organization went away)
        raise Conflict("this lead was removed meanwhile; try again")
    return locked


async def _create(session: AsyncSession, org_id: uuid.UUID, person: PersonRef, keys: Keys) -> tuple[Lead, bool]:
    """Insert the person unless a concurrent call did (a unique key conflicts): then find theirs."""
    now = utcnow()
    new_id = uuid.uuid4()
    inserted = await session.execute(
        upsert_insert(session, Lead)
        .values(
            id=new_id,
            org_id=org_id,
            **{field: getattr(person, field).strip()[:size] for field, size in _LENGTHS.items()},
            email_key=keys.email,
            profile_key=keys.profile,
            name_key=keys.name,
            stage="new",
            value_cents=0,
            currency=DEFAULT_CURRENCY,
            notes="",
            score=0,
            intent=0,
            recency=0,
            fit=0,
            reasons=[],
            last_signal_text="",
            last_signal_source="",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
        .returning(Lead.id)
    )
    if inserted.scalar() is not None:
        return await leads.get(session, org_id, new_id), True
    found = await find(session, org_id, keys)
    if found is None:  # the conflicting row went away meanwhile (rolled back): rare, and retryable
        raise Conflict("this person was being added at the same moment; try again")
    return found, False


async def _complete(session: AsyncSession, lead: Lead, person: PersonRef, keys: Keys) -> None:
    """Fill in what the lead lacks from what this signal knows. A key that another lead already
    holds stays unset (two people are never merged silently)."""
    for field in ("name", "profile_url", "email", "company", "title"):
        value = getattr(person, field).strip()
        if value and not getattr(lead, field):
            setattr(lead, field, value[: _LENGTHS[field]])
    wanted: dict[str, Any] = {}
    for attribute, value in (
        ("email_key", keys.email),
        ("profile_key", keys.profile),
        ("name_key", name_key(lead.name, lead.company)),
    ):
        if value is not None and getattr(lead, attribute) is None:
            wanted[attribute] = value
    await session.flush()
    for attribute, value in wanted.items():
        try:
            async with session.begin_nested():  # a concurrent lead may take the key first
                await session.execute(
                    update(Lead)
                    .where(Lead.id == lead.id, getattr(Lead, attribute).is_(None))
                    .values({attribute: value})
                    .execution_options(synchronize_session=False)
                )
        except IntegrityError:
            continue
        setattr(lead, attribute, value)


async def rescore(session: AsyncSession, lead: Lead) -> None:
    """Score the lead again from its strongest and its latest signal, and its title and company."""
    strongest = await session.scalar(
        select(LeadSignal)
        .where(LeadSignal.lead_id == lead.id)
        .order_by(LeadSignal.intent.desc(), LeadSignal.at.desc())
        .limit(1)
    )
    latest = await session.scalar(
        select(LeadSignal).where(LeadSignal.lead_id == lead.id).order_by(LeadSignal.at.desc()).limit(1)
    )
    intents = [signal_intent(s.source, s.text) for s in (strongest, latest) if s is not None]
    last = as_utc(latest.at) if latest is not None else None
    now = utcnow()
    found = scoring.combine(intents, last, lead.title, lead.company, now)
    lead.score, lead.intent, lead.recency, lead.fit = found.score, found.intent, found.recency, found.fit
    lead.reasons, lead.scored_at = found.reasons, now
    await session.flush()


# -- by hand and the pipeline -------------------------------------------------------------------


async def add_by_hand(session: AsyncSession, org_id: uuid.UUID, data: LeadIn) -> Recorded:
    """A person the user adds: the existing lead when they are known (same e-mail, profile URL or
    name at company), with a manual signal; the deal's value when given."""
    person = PersonRef(data.name, data.profile_url, data.email, data.company, data.title)
    found = await record(session, org_id, person, "manual", data.notes.strip() or "Added by hand", utcnow())
    lead = found.lead
    if data.notes.strip() and not lead.notes:
        lead.notes = data.notes.strip()
    if data.value_cents is not None:
        lead.value_cents = data.value_cents
    if data.currency is not None:
        lead.currency = data.currency
    await session.flush()
    return found


async def listed(session: AsyncSession, org_id: uuid.UUID, limit: int = 100, offset: int = 0) -> list[Lead]:
    """The organization's leads, best score first (then the latest signal)."""
    query = (
        leads.scoped(org_id)
        .order_by(Lead.score.desc(), Lead.last_signal_at.desc().nulls_last(), Lead.created_at.desc(), Lead.id)
        .limit(limit)
        .offset(offset)
    )
    return list((await session.scalars(query)).all())


async def signals_of(session: AsyncSession, lead: Lead, limit: int = 50) -> list[LeadSignal]:
    """The lead's signals, newest first."""
    query = (
        select(LeadSignal)
        .where(LeadSignal.org_id == lead.org_id, LeadSignal.lead_id == lead.id)
        .order_by(LeadSignal.at.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def edit(session: AsyncSession, org_id: uuid.UUID, lead_id: uuid.UUID, data: LeadEdit) -> Lead:
    """Change the stage (along the pipeline, 409 otherwise), the deal's value, currency or notes."""
    lead = await leads.get(session, org_id, lead_id)
    if data.stage is not None and data.stage != lead.stage:
        await move(session, lead, data.stage)
    if data.value_cents is not None:
        lead.value_cents = data.value_cents
    if data.currency is not None:
        lead.currency = data.currency
    if data.notes is not None:
        lead.notes = data.notes
    await session.flush()
    return lead


async def move(session: AsyncSession, lead: Lead, stage: str) -> None:
    """Move the deal to *stage*, if the pipeline allows it from where it is. The update is guarded
    by the stage it was read in: a concurrent move wins once, the other gets 409."""
    if stage not in STAGES:
        raise Unprocessable(f"{stage[:20]!r} is not a stage; stages are {', '.join(STAGES)}")
    allowed = NEXT_STAGES[lead.stage]
    if stage not in allowed:
        choices = ", ".join(allowed) or "none"
        raise Conflict(f"a lead in {lead.stage} cannot move to {stage}; it may move to {choices}")
    moved = await session.execute(
        update(Lead)
        .where(Lead.id == lead.id, Lead.org_id == lead.org_id, Lead.stage == lead.stage)
        .values(stage=stage, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict("the lead's stage changed meanwhile; reload it and try again")
    lead.stage = stage


@dataclass(frozen=True)
class Totals:
    open_value: dict[str, int]
    won_value: dict[str, int]
    counts: dict[str, int]


async def totals(session: AsyncSession, org_id: uuid.UUID) -> Totals:
    """Open pipeline value and won value (cents, per currency) and how many leads each stage holds."""
    rows = await session.execute(
        select(Lead.stage, Lead.currency, func.count(), func.coalesce(func.sum(Lead.value_cents), 0))
        .where(Lead.org_id == org_id)
        .group_by(Lead.stage, Lead.currency)
    )
    open_value: dict[str, int] = {}
    won_value: dict[str, int] = {}
    counts = dict.fromkeys(STAGES, 0)
    for stage, currency, count, value in rows.all():
        counts[stage] += int(count)
        if stage in OPEN_STAGES:
            open_value[currency] = open_value.get(currency, 0) + int(value)
        elif stage == "won":
            won_value[currency] = won_value.get(currency, 0) + int(value)
    return Totals(open_value, won_value, counts)
