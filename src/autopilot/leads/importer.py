"""Import of LinkedIn's member data archive as lead signals (research: linkedin-analytics-and-leads.md §1.8).

Files are known by their header row, not their name (names vary: `messages.csv`, `Connections.csv`,
member-id suffixes), and the header may follow a preamble (Connections.csv starts with "Notes:").
Signals are inbound messages, incoming invitations and connections; the member's own messages and
outgoing invitations are not. Someone becomes a lead when a row of theirs shows buying intent (or, for
a connection, a title that fits); their other rows, and every row of people who already are leads,
are added as signals too. Each row's natural key makes a re-import change nothing.

Everything is read and checked before anything is written: a damaged or foreign file is refused
whole (422) and the request's transaction is rolled back."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from autopilot.kit.errors import Unprocessable
from autopilot.leads import scoring, service
from autopilot.leads.service import PersonRef

# The columns that tell each file apart (lower case); other columns are optional.
SIGNATURES: dict[str, frozenset[str]] = {
    "messages": frozenset({"conversation id", "from", "date", "content"}),
    "connections": frozenset({"first name", "last name", "url", "connected on"}),
    "invitations": frozenset({"from", "to", "sent at", "direction"}),
    "profile": frozenset({"first name", "last name", "headline"}),
}
SIGNALS = ("messages", "connections", "invitations")
HEADER_SEARCH_ROWS = 10  # the header comes after at most a few preamble lines
MAX_CSV_BYTES = 50_000_000  # uncompressed, over the archive's CSV files: a zip bomb stops here
FIT_TO_QUALIFY = 40  # a connection's title at least this fit (e.g. a CTO, a founder) makes a lead
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",  # messages.csv: 2026-08-31 21:20:46 UTC
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d %b %Y",  # Connections.csv: 15 Jun 2024
    "%m/%d/%y, %I:%M %p",  # Invitations.csv: 9/5/26, 1:12 AM
    "%m/%d/%Y, %I:%M %p",
    "%m/%d/%y",
    "%m/%d/%Y",
)


@dataclass
class Table:
    kind: str
    filename: str
    header_row: int  # 1-based line of the header, for messages about a row
    rows: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """A row that may become a signal."""

    source: str
    person: PersonRef
    text: str
    at: datetime
    natural_key: str
    qualifies: bool  # shows buying intent (or a fitting title) on its own


@dataclass
class Outcome:
    files: list[str]
    signals_added: int = 0
    leads_created: int = 0
    skipped: int = 0


def read_tables(data: bytes, filename: str) -> list[Table]:
    """The archive's (or the single CSV's) files that matter, known by their headers; 422 when none."""
    if not data:
        raise Unprocessable("the file is empty")
    if data[:2] == b"PK" or filename.lower().endswith(".zip"):
        return _tables_in_zip(data)
    table = _table(data, filename or "the file", strict=True)
    if table is None or table.kind not in SIGNALS:
        raise Unprocessable(
            "this is not LinkedIn's messages.csv, Connections.csv or Invitations.csv, nor its data archive "
            f"(.zip): its first line is {_first_line(data)!r}"
        )
    return [table]


def _tables_in_zip(data: bytes) -> list[Table]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and m.filename.lower().endswith(".csv")]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise Unprocessable(f"the file is not a readable zip archive ({exc})") from None
    if sum(m.file_size for m in members) > MAX_CSV_BYTES:
        raise Unprocessable(f"the archive's CSV files are larger than {MAX_CSV_BYTES // 1_000_000} MB once unpacked")
    tables = []
    for member in members:
        try:
            raw = archive.read(member)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise Unprocessable(f"{member.filename} in the archive is damaged ({exc})") from None
        table = _table(raw, member.filename, strict=False)
        if table is not None:
            tables.append(table)
    if not any(t.kind in SIGNALS for t in tables):
        names = ", ".join(m.filename for m in members[:8]) or "no CSV files"
        raise Unprocessable(
            f"no messages, connections or invitations found in the archive (it holds {names}); "
            "download it from LinkedIn: Settings → Data privacy → Get a copy of your data"
        )
    return tables


def _first_line(data: bytes) -> str:
    return data[:200].decode("utf-8", errors="replace").splitlines()[0][:80] if data.strip() else ""


def _table(raw: bytes, filename: str, *, strict: bool) -> Table | None:
    """The file as rows keyed by lower-case column names, if its header is one we know. A known file
    that is damaged is refused; an unknown one in an archive is none of our business (None)."""
    head = raw[:8192].decode("utf-8-sig", errors="replace")
    kind, header_row = _kind_of(head)
    if kind is None:
        if strict and b"\x00" in raw[:8192]:
            raise Unprocessable(f"{filename} is not a text (CSV) file")
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable(f"{filename} is not UTF-8 text (byte {exc.start})") from None
    table = Table(kind, filename, header_row + 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header: list[str] = []
        for number, cells in enumerate(reader):
            if number < header_row:
                continue
            if number == header_row:
                header = [c.strip().lower() for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue
            table.rows.append({name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)})
    except csv.Error as exc:
        raise Unprocessable(f"{filename} line {reader.line_num} cannot be read as CSV ({exc})") from None
    return table


def _kind_of(head: str) -> tuple[str | None, int]:
    """Which known file this is, and the 0-based row of its header, from its first rows."""
    reader = csv.reader(io.StringIO(head, newline=""))
    try:
        for number, cells in enumerate(reader):
            if number >= HEADER_SEARCH_ROWS:
                break
            names = {c.strip().lower() for c in cells}
            for kind, required in SIGNATURES.items():
                if required <= names:
                    return kind, number
    except csv.Error:
        return None, 0
    return None, 0


def parse_date(value: str) -> datetime | None:
    """The dates of the archive's files, all read as UTC; None when unreadable."""
    raw = value.strip().removesuffix("UTC").removesuffix("Z").strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _date(table: Table, row_number: int, row: dict[str, str], column: str) -> datetime:
    found = parse_date(row.get(column, ""))
    if found is None:
        where = f"{table.filename} row {table.header_row + row_number}"
        raise Unprocessable(f"{where}: {column.upper()} {row.get(column, '')[:40]!r} is not a date")
    return found


def owner_names(tables: list[Table], hints: list[str]) -> set[str]:
    """Who the member is (plain names), so their own messages are not taken as signals: Profile.csv,
    else the invitations' directions, else the one person in every conversation; *hints* (the
    user's own name) decide between candidates."""
    plain = service.plain_name
    names: set[str] = set()
    for table in tables:
        if table.kind == "profile":
            names |= {plain(f"{r.get('first name', '')} {r.get('last name', '')}") for r in table.rows}
        elif table.kind == "invitations":
            for row in table.rows:
                direction = row.get("direction", "").strip().upper()
                me = row.get("from", "") if direction == "OUTGOING" else row.get("to", "") if direction else ""
                names.add(plain(me))
    names.discard("")
    if names:
        return names
    conversations: dict[str, set[str]] = {}
    for table in tables:
        if table.kind == "messages":
            for row in table.rows:
                people = conversations.setdefault(row.get("conversation id", ""), set())
                people.add(plain(row.get("from", "")))
                people |= {plain(to) for to in row.get("to", "").split(",")}
    if not conversations:
        return set()
    common = set.intersection(*conversations.values()) - {""}
    if len(common) == 1:
        return common
    hinted = {plain(h) for h in hints} & common
    if len(hinted) == 1:
        return hinted
    raise Unprocessable(
        "could not tell which messages are your own: import the whole archive (its Profile.csv names you), "
        "or give your name as it appears on LinkedIn"
    )


def candidates(tables: list[Table], owner: set[str]) -> Iterator[Candidate]:
    """The rows that may become signals; raises 422 on a row that cannot be read (before any write)."""
    plain = service.plain_name
    for table in tables:
        for number, row in enumerate(table.rows, start=1):
            if table.kind == "messages":
                sender = row.get("from", "").strip()
                if not sender or plain(sender) in owner:
                    continue
                at = _date(table, number, row, "date")
                subject, content = row.get("subject", "").strip(), row.get("content", "").strip()
                text = f"{subject}\n{content}" if subject and subject not in content else content
                key = f"{row.get('conversation id', '')}|{row.get('date', '')}|{sender}"
                person = PersonRef(name=sender, profile_url=row.get("sender profile url", ""))
                yield Candidate("archive_message", person, text, at, key, scoring.intent_of(text).buying)
            elif table.kind == "invitations":
                if row.get("direction", "").strip().upper() != "INCOMING":
                    continue
                sender = row.get("from", "").strip()
                at = _date(table, number, row, "sent at")
                message = row.get("message", "").strip()
                person = PersonRef(name=sender, profile_url=row.get("inviterprofileurl", ""))
                text = message or "Invited you to connect"
                key = f"{sender}|{row.get('sent at', '')}"
                yield Candidate("archive_invitation", person, text, at, key, scoring.intent_of(message).buying)
            elif table.kind == "connections":
                name = f"{row.get('first name', '').strip()} {row.get('last name', '').strip()}".strip()
                url = row.get("url", "").strip()
                if not (name or url):
                    continue
                at = _date(table, number, row, "connected on")
                title, company = row.get("position", "").strip(), row.get("company", "").strip()
                person = PersonRef(name, url, row.get("email address", "").strip(), company, title)
                text = "Connected on LinkedIn" + (f": {title} at {company}" if title and company else "")
                key = f"{url or name}|{row.get('connected on', '')}"
                fits = scoring.fit_of(title, "")[0] >= FIT_TO_QUALIFY
                yield Candidate("archive_connection", person, text, at, key, fits)


async def import_archive(
    session: AsyncSession, org_id: uuid.UUID, data: bytes, filename: str, hints: list[str]
) -> Outcome:
    """Add the archive's signals to the organization's leads, in the caller's transaction."""
    tables = read_tables(data, filename)
    found = list(candidates(tables, owner_names(tables, hints)))  # every row read before any write
    outcome = Outcome(files=sorted({t.kind for t in tables}))
    # Pass 1: rows that make a lead on their own; pass 2: other rows, for people who are leads now.
    for candidate in [c for c in found if c.qualifies] + [c for c in found if not c.qualifies]:
        if not candidate.qualifies and await service.find(session, org_id, service.Keys.of(candidate.person)) is None:
            outcome.skipped += 1
            continue
        recorded = await service.record(
            session,
            org_id,
            candidate.person,
            candidate.source,
            candidate.text,
            candidate.at,
            natural_key=f"{candidate.source}|{candidate.natural_key}",
        )
        outcome.signals_added += recorded.added
        outcome.leads_created += recorded.created
        outcome.skipped += not recorded.added
    return outcome
