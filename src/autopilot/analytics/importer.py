"""Import of what any LinkedIn member can download (research: linkedin-analytics-and-leads.md §1):
the creator analytics export (.xlsx, both generations), a per-post export (.xlsx), and the data
archive (.zip, or its Shares.csv alone) for post texts and times.

The kind of file is known by its content, never its name. Everything is read and checked first, in
a worker thread (parsing is CPU work and must not hold the event loop nor a write transaction), then
written in the caller's transaction: a damaged or foreign file is refused whole (422) and nothing is
written. The same bytes again are recognised by their SHA-256 and change nothing; an overlapping
file upserts the same rows (INSERT … ON CONFLICT) and keeps the higher daily figures.

A post is one row however it became known: an export names it by its activity id, Shares.csv and our
own publishing by its share/ugcPost URN, different numbers minted moments apart. An imported post
joins the row whose other id was minted within five minutes of its own (research §1.4)."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.analytics import prediction, xlsx
from autopilot.analytics.models import AccountDay, AnalyticsImport, AnalyticsPost, AnalyticsSample
from autopilot.analytics.xlsx import DayFigures, PostFigures, PostRef
from autopilot.kit.db import upsert_insert
from autopilot.kit.errors import Unprocessable
from autopilot.kit.inputs import Input
from autopilot.kit.logging import log
from autopilot.kit.time import utcnow

MATCH_WINDOW = timedelta(minutes=5)  # a share id and its activity id are minted moments apart
SHARES_COLUMNS = frozenset({"date", "sharelink", "sharecommentary"})
HEADER_SEARCH_ROWS = 5
MAX_CSV_BYTES = 50_000_000  # uncompressed, over an archive's Shares CSVs: a zip bomb stops here
_SHARES_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")
_KINDS_IN_WORDS = {"creator_export": "creator analytics export", "post_export": "per-post export", "shares": "posts"}


@dataclass
class ParsedFile:
    """A file read and checked, ready to be written."""

    kind: str  # creator_export | post_export | shares
    layout: str
    sha256: str
    filename: str
    posts: list[PostFigures] = field(default_factory=list)
    days: dict[date, DayFigures] = field(default_factory=dict)
    period: tuple[date, date] | None = None
    figures_source: str | None = None  # export | post_export; None: the file has no figures
    figures_at: datetime | None = None  # the moment its figures stand for


class ImportForm(Input):
    """A multipart form with one file downloaded from LinkedIn."""

    file: UploadFile = Field(description="An analytics export (.xlsx), the data archive (.zip) or its Shares.csv")


class ImportListed(BaseModel):
    """A file imported before."""

    import_id: uuid.UUID
    filename: str
    kind: str = Field(description="creator_export | post_export | shares")
    layout: str = Field(description='The layout detected, e.g. "2026 (AggregateAnalytics_…), dates D/M/Y"')
    summary: str = Field(description="What it added, in words")
    period_start: date | None
    period_end: date | None
    created_at: datetime


class ImportResult(ImportListed):
    """What one import added, or the earlier import of the same file (`already_imported`, nothing added)."""

    already_imported: bool = False
    posts_added: int = Field(default=0, description="Posts not known before")
    posts_updated: int = Field(default=0, description="Posts known before, given this file's figures or text")
    days: int = Field(default=0, description="Days of the account's impressions, engagements and followers")
    matched: int = Field(default=0, description="Imported posts joined to posts published from here")


# ---------------------------------------------------------------- reading (no database)


def read_file(filename: str, data: bytes) -> ParsedFile:
    """The file's content, known by what it holds; Unprocessable with a sentence when it is none of
    LinkedIn's files we know, or damaged. CPU work: call it through `asyncio.to_thread`."""
    if not data:
        raise Unprocessable("the file is empty")
    digest = hashlib.sha256(data).hexdigest()
    name = filename[:255]
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
            raise Unprocessable(f"the file is neither a readable zip archive nor an Excel workbook ({exc})") from None
        if "xl/workbook.xml" in names:
            book = xlsx.read_workbook(data)
            source = "export" if book.kind == "creator_export" else "post_export"
            return ParsedFile(
                book.kind,
                book.layout,
                digest,
                name,
                book.posts,
                book.days,
                book.period,
                figures_source=source,
                figures_at=_as_of(book.period) if book.kind == "creator_export" else utcnow(),
            )
        posts = _shares_in_zip(data)
        return ParsedFile("shares", "data archive (Shares.csv)", digest, name, posts, period=_span(posts))
    if b"\x00" in data[:8192]:
        raise Unprocessable(
            "this is not one of LinkedIn's files we know: send the creator analytics export (.xlsx), a post's "
            "analytics export (.xlsx), the data archive (.zip) or its Shares.csv"
        )
    posts_or_none = _shares(data, name or "the file")
    if posts_or_none is None:
        first = data[:200].decode("utf-8", errors="replace").strip().splitlines()
        raise Unprocessable(
            "this is not LinkedIn's Shares.csv (its header is Date, ShareLink, ShareCommentary …), nor an "
            f"analytics export (.xlsx) or data archive (.zip): its first line is {(first or [''])[0][:80]!r}"
        )
    return ParsedFile("shares", "Shares.csv", digest, name, posts_or_none, period=_span(posts_or_none))


def _as_of(period: tuple[date, date] | None) -> datetime | None:
    """An export's figures stand for the end of its last day (the export itself carries no time)."""
    return None if period is None else datetime.combine(period[1] + timedelta(days=1), time(), UTC)


def _span(posts: list[PostFigures]) -> tuple[date, date] | None:
    days = [p.published_at.date() for p in posts if p.published_at is not None]
    return (min(days), max(days)) if days else None


def _shares_in_zip(data: bytes) -> list[PostFigures]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and m.filename.lower().endswith(".csv")]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise Unprocessable(f"the file is not a readable zip archive ({exc})") from None
    if sum(m.file_size for m in members) > MAX_CSV_BYTES * 4:
        raise Unprocessable("the archive's CSV files are too large once unpacked")
    found: list[PostFigures] | None = None
    for member in members:
        try:
            with archive.open(member) as stream:
                head = stream.read(4096)
            if _header_row(head.decode("utf-8-sig", errors="replace")) is None:
                continue
            if member.file_size > MAX_CSV_BYTES:
                raise Unprocessable(f"{member.filename} is larger than {MAX_CSV_BYTES // 1_000_000} MB once unpacked")
            raw = archive.read(member)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise Unprocessable(f"{member.filename} in the archive is damaged ({exc})") from None
        posts = _shares(raw, member.filename)
        if posts is not None:
            found = (found or []) + posts
    if found is None:
        names = ", ".join(m.filename for m in members[:8]) or "no CSV files"
        raise Unprocessable(
            f"no Shares.csv (your posts) found in the archive (it holds {names}); download it from LinkedIn: "
            "Settings → Data privacy → Get a copy of your data, with Posts selected"
        )
    return _one_per_post(found)


def _header_row(head: str) -> int | None:
    reader = csv.reader(io.StringIO(head, newline=""))
    try:
        for number, cells in enumerate(reader):
            if number >= HEADER_SEARCH_ROWS:
                return None
            if {c.strip().lower() for c in cells} >= SHARES_COLUMNS:
                return number
    except csv.Error:
        return None
    return None


def _shares(raw: bytes, filename: str) -> list[PostFigures] | None:
    """Shares.csv's posts (text and time), or None when the file is not a Shares.csv."""
    header_row = _header_row(raw[:8192].decode("utf-8-sig", errors="replace"))
    if header_row is None:
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable(f"{filename} is not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    posts: list[PostFigures] = []
    header: list[str] = []
    try:
        for number, cells in enumerate(reader):
            if number < header_row:
                continue
            if number == header_row:
                header = [c.strip().lower() for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue
            row = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
            posts.append(_share(row, f"{filename} line {reader.line_num}"))
    except csv.Error as exc:
        raise Unprocessable(f"{filename} line {reader.line_num} cannot be read as CSV ({exc})") from None
    return _one_per_post(posts)


def _share(row: dict[str, str], where: str) -> PostFigures:
    link = row.get("sharelink", "").strip()
    ref = PostRef.find(link)
    if ref is None:
        raise Unprocessable(f"{where}: ShareLink {link[:80]!r} names no LinkedIn post")
    raw_date = row.get("date", "").strip().removesuffix("UTC").strip()
    stated = None
    for pattern in _SHARES_DATE_FORMATS:
        try:
            stated = datetime.strptime(raw_date, pattern).replace(tzinfo=UTC)  # UTC (research §1.4)
            break
        except ValueError:
            continue
    if stated is None:
        raise Unprocessable(f"{where}: Date {raw_date[:40]!r} is not a date like 2025-01-03 10:00:00")
    minted = ref.minted_at
    published = minted if abs(minted - stated) <= timedelta(days=1) else stated
    media = row.get("mediaurl", "").strip() or row.get("sharedurl", "").strip()
    commentary = _commentary(row.get("sharecommentary", ""))
    return PostFigures(
        ref=ref,
        url=link,
        published_at=published,
        text=commentary,
        # Only a post with neither media nor link is surely a text post; the rest stays unknown.
        media_type="text" if commentary and not media else None,
    )


def _commentary(raw: str) -> str:
    """The post's text. Shares.csv wraps some commentaries in an extra pair of quotes, with `"\\n"`
    between paragraphs and quotes doubled inside (research §1.8); only text so wrapped is unwrapped.
    Unsure: the artefact is described by third-party cleaners, not by LinkedIn."""
    text = raw.strip()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('"\n"', "\n").replace('""', '"')
    return text.strip()


def _one_per_post(posts: list[PostFigures]) -> list[PostFigures]:
    """An edited post may appear twice: keep its first time and its last text."""
    merged: dict[PostRef, PostFigures] = {}
    for post in sorted(posts, key=lambda p: p.published_at or datetime.min.replace(tzinfo=UTC)):
        kept = merged.setdefault(post.ref, post)
        if kept is not post and post.text:
            kept.text, kept.media_type = post.text, post.media_type or kept.media_type
    return list(merged.values())


# ---------------------------------------------------------------- writing (the caller's transaction)


_POSTS = AnalyticsPost.__table__
_FIGURES = ("impressions", "members_reached", "reactions", "comments", "reposts", "engagements", "saves", "sends")
_SAMPLED = ("impressions", "members_reached", "reactions", "comments", "reposts")


async def import_file(
    session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID | None, filename: str, data: bytes
) -> ImportResult:
    """Read *data* in a worker thread, then write it in *session*'s transaction. Give a session that
    has not begun yet (on SQLite the first statement takes the write lock) so the lock is not held
    while the file is parsed."""
    parsed = await asyncio.to_thread(read_file, filename, data)
    return await store(session, org_id, user_id, parsed)


async def store(
    session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID | None, parsed: ParsedFile
) -> ImportResult:
    """Write a parsed file: posts, their samples, the account's days and the import's record."""
    now = utcnow()
    claimed = await session.execute(
        upsert_insert(session, AnalyticsImport.__table__)
        .values(
            id=uuid.uuid4(),
            org_id=org_id,
            imported_by=user_id,
            sha256=parsed.sha256,
            kind=parsed.kind,
            filename=parsed.filename,
            layout=parsed.layout[:40],
            summary="",
            period_start=parsed.period[0] if parsed.period else None,
            period_end=parsed.period[1] if parsed.period else None,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["org_id", "sha256"])
        .returning(AnalyticsImport.__table__.c.id)
    )
    import_id = claimed.scalar_one_or_none()
    if import_id is None:  # the same bytes were imported before (or are being, concurrently)
        earlier = await session.scalar(
            select(AnalyticsImport).where(AnalyticsImport.org_id == org_id, AnalyticsImport.sha256 == parsed.sha256)
        )
        assert earlier is not None
        return _result(earlier, already_imported=True)

    added, updated, matched = await _store_posts(session, org_id, parsed, now)
    days = await _store_days(session, org_id, parsed.days, now)
    words = _KINDS_IN_WORDS[parsed.kind]
    summary = f"{words}: {added} new posts, {updated} updated, {matched} matched to posts published here"
    if parsed.days:
        summary += f", {days} days"
    if any(post.has_figures() for post in parsed.posts):
        await prediction.retrain_if_due(session, org_id)  # the forecast learns from new figures
    record = await session.get(AnalyticsImport, import_id)
    assert record is not None
    record.summary = summary
    await session.flush()
    log.info(
        "analytics.imported",
        org_id=str(org_id),
        kind=parsed.kind,
        layout=parsed.layout,
        posts_added=added,
        posts_updated=updated,
        matched=matched,
        days=days,
    )
    return _result(record, posts_added=added, posts_updated=updated, days=days, matched=matched)


def _listed(record: AnalyticsImport) -> ImportListed:
    return ImportListed(
        import_id=record.id,
        filename=record.filename,
        kind=record.kind,
        layout=record.layout,
        summary=record.summary,
        period_start=record.period_start,
        period_end=record.period_end,
        created_at=record.created_at,
    )


def _result(record: AnalyticsImport, **counts: Any) -> ImportResult:
    return ImportResult(**_listed(record).model_dump(), **counts)


@dataclass
class _Known:
    """A row of the organization that an imported post may join."""

    id: uuid.UUID
    origin: str
    activity_id: str | None
    share_urn: str | None

    def minted(self) -> list[datetime]:
        found = []
        if self.activity_id:
            found.append(xlsx.id_time(self.activity_id))
        ref = PostRef.find(self.share_urn or "")
        if ref is not None:
            found.append(ref.minted_at)
        return found


async def _known_posts(session: AsyncSession, org_id: uuid.UUID, posts: list[PostFigures]) -> list[_Known]:
    """The organization's posts near the imported ones in time (published_at is within a day of
    its ids' times), or named by the same ids."""
    if not posts:
        return []
    minted = [p.ref.minted_at for p in posts]
    activity_ids = [p.ref.number for p in posts if p.ref.kind == "activity"]
    urns = [p.ref.urn for p in posts if p.ref.kind != "activity"]
    rows = await session.execute(
        select(AnalyticsPost.id, AnalyticsPost.origin, AnalyticsPost.activity_id, AnalyticsPost.share_urn).where(
            AnalyticsPost.org_id == org_id,
            or_(
                AnalyticsPost.published_at.between(min(minted) - timedelta(days=2), max(minted) + timedelta(days=2)),
                AnalyticsPost.published_at.is_(None),
                AnalyticsPost.activity_id.in_(activity_ids),
                AnalyticsPost.share_urn.in_(urns),
            ),
        )
    )
    return [_Known(*row) for row in rows.all()]


def _join(post: PostFigures, known: list[_Known], taken: set[uuid.UUID]) -> _Known | None:
    """The row this post is: the one with its id, else the closest one in time within the window
    that lacks this kind of id (an export's activity id joins our share URN, and back)."""
    is_activity = post.ref.kind == "activity"
    for row in known:
        if is_activity and row.activity_id == post.ref.number:
            return row
        # share: and ugcPost: URNs of one post may carry one number; the number names the post
        found = None if is_activity else PostRef.find(row.share_urn or "")
        if found is not None and found.number == post.ref.number:
            return row
    best: tuple[timedelta, _Known] | None = None
    minted = post.ref.minted_at
    for row in known:
        if row.id in taken or (row.activity_id if is_activity else row.share_urn):
            continue
        for other in row.minted():
            gap = abs(other - minted)
            if gap <= MATCH_WINDOW and (best is None or gap < best[0]):
                best = (gap, row)
    return best[1] if best else None


async def _store_posts(
    session: AsyncSession, org_id: uuid.UUID, parsed: ParsedFile, now: datetime
) -> tuple[int, int, int]:
    known = await _known_posts(session, org_id, parsed.posts)
    taken: set[uuid.UUID] = set()
    added = updated = matched = 0
    for post in parsed.posts:
        is_activity = post.ref.kind == "activity"
        row = _join(post, known, taken)
        if row is not None:
            taken.add(row.id)
            matched += row.origin == "published"
            lacking = (row.activity_id if is_activity else row.share_urn) is None
            if lacking:
                # Give the row this id, so the upsert below lands on it; guarded: a concurrent import
                # that gave it first wins, and ours then lands on its own row by the unique key.
                column = AnalyticsPost.activity_id if is_activity else AnalyticsPost.share_urn
                await session.execute(
                    update(AnalyticsPost)
                    .where(AnalyticsPost.id == row.id, AnalyticsPost.org_id == org_id, column.is_(None))
                    .values({column.key: post.ref.number if is_activity else post.ref.urn, "updated_at": now})
                )
                if is_activity:
                    row.activity_id = post.ref.number
                else:
                    row.share_urn = post.ref.urn
        stored_urn = row.share_urn if row is not None and not is_activity else None
        post_id = await _upsert_post(session, org_id, post, parsed, now, stored_urn or post.ref.urn)
        if row is None:
            added += 1
            known.append(_Known(post_id, "archive" if parsed.kind == "shares" else "export", None, None))
            taken.add(post_id)
        else:
            updated += 1
        if parsed.figures_at is not None and any(getattr(post, name) is not None for name in _SAMPLED):
            await _upsert_sample(session, org_id, post_id, post, parsed)
    return added, updated, matched


def _rank(column: Any) -> Any:
    return case((column == "api", 3), (column == "post_export", 2), (column == "export", 1), else_=0)


async def _upsert_post(
    session: AsyncSession, org_id: uuid.UUID, post: PostFigures, parsed: ParsedFile, now: datetime, urn: str
) -> uuid.UUID:
    """INSERT … ON CONFLICT on the post's id. Figures from a source at least as trusted and as
    recent replace the stored ones; a figure the file does not give never erases a known one, and
    a known one fills a stored NULL whatever its source (unknown is not zero, research §1.2)."""
    is_activity = post.ref.kind == "activity"
    has_figures = post.has_figures()
    statement = upsert_insert(session, _POSTS).values(
        id=uuid.uuid4(),
        org_id=org_id,
        origin="archive" if parsed.kind == "shares" else "export",
        activity_id=post.ref.number if is_activity else None,
        share_urn=None if is_activity else urn,
        url=post.url,
        published_at=post.published_at,
        text=post.text,
        media_type=post.media_type,
        figures_source=parsed.figures_source if has_figures else None,
        figures_at=parsed.figures_at if has_figures else None,
        sync_state="none",
        sync_detail="",
        sync_failures=0,
        created_at=now,
        updated_at=now,
        **{name: getattr(post, name) for name in _FIGURES},
    )
    new, old = statement.excluded, _POSTS.c
    newer = or_(
        _rank(old.figures_source) < _rank(new.figures_source),
        and_(
            _rank(old.figures_source) == _rank(new.figures_source),
            or_(old.figures_at.is_(None), old.figures_at <= new.figures_at),
        ),
    )
    values: dict[str, Any] = {
        "url": case((old.url == "", new.url), else_=old.url),
        "published_at": func.coalesce(old.published_at, new.published_at),
        "text": func.coalesce(old.text, new.text),
        "media_type": func.coalesce(old.media_type, new.media_type),
        "updated_at": now,
    }
    if has_figures:
        for name in _FIGURES:
            values[name] = case((newer, func.coalesce(new[name], old[name])), else_=func.coalesce(old[name], new[name]))
        values["figures_source"] = case((newer, new.figures_source), else_=old.figures_source)
        values["figures_at"] = case((newer, new.figures_at), else_=old.figures_at)
    key = ["org_id", "activity_id"] if is_activity else ["org_id", "share_urn"]
    result = await session.execute(
        statement.on_conflict_do_update(index_elements=key, set_=values).returning(_POSTS.c.id)
    )
    post_id: uuid.UUID = result.scalar_one()
    return post_id


async def _upsert_sample(
    session: AsyncSession, org_id: uuid.UUID, post_id: uuid.UUID, post: PostFigures, parsed: ParsedFile
) -> None:
    """One sample per post, file moment and source; the same moment again keeps the higher figures."""
    table = AnalyticsSample.__table__
    statement = upsert_insert(session, table).values(
        id=uuid.uuid4(),
        org_id=org_id,
        post_id=post_id,
        at=parsed.figures_at,
        source=parsed.figures_source,
        **{name: getattr(post, name) for name in _SAMPLED},
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["post_id", "at", "source"],
            set_={name: _higher(table.c[name], statement.excluded[name]) for name in _SAMPLED},
        )
    )


def _higher(old: Any, new: Any) -> Any:
    """The higher of two figures, a known one over an unknown one (portable: no GREATEST on SQLite)."""
    return case((old.is_(None), new), (new.is_(None), old), (new > old, new), else_=old)


async def _store_days(session: AsyncSession, org_id: uuid.UUID, days: dict[date, DayFigures], now: datetime) -> int:
    """Upsert the account's days; on overlap with an earlier export the higher value wins, because
    LinkedIn revises recent days upward (research §1.1)."""
    table = AccountDay.__table__
    names = ("impressions", "engagements", "new_followers", "followers")
    for day, figures in sorted(days.items()):
        statement = upsert_insert(session, table).values(
            org_id=org_id, day=day, updated_at=now, **{name: getattr(figures, name) for name in names}
        )
        set_: dict[str, Any] = {name: _higher(table.c[name], statement.excluded[name]) for name in names}
        set_["updated_at"] = now
        raises = or_(
            *(
                and_(
                    statement.excluded[name].is_not(None),
                    or_(table.c[name].is_(None), statement.excluded[name] > table.c[name]),
                )
                for name in names
            )
        )  # a day that would not change is left alone (its updated_at too)
        await session.execute(
            statement.on_conflict_do_update(index_elements=["org_id", "day"], set_=set_, where=raises)
        )
    return len(days)


async def imports(session: AsyncSession, org_id: uuid.UUID, limit: int = 100, offset: int = 0) -> list[ImportListed]:
    """The organization's imports, newest first."""
    rows = await session.scalars(
        select(AnalyticsImport)
        .where(AnalyticsImport.org_id == org_id)
        .order_by(AnalyticsImport.created_at.desc(), AnalyticsImport.id)
        .limit(limit)
        .offset(offset)
    )
    return [_listed(row) for row in rows]
