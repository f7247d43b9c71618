"""Reading LinkedIn's analytics exports (.xlsx): the creator export of an account and the per-post
export (research: linkedin-analytics-and-leads.md §1.2 to §1.6). Pure CPU work, no database.

Sheets are known by what they hold, never by their names: 2026 exports localize them ("Engajamento",
"Seguidores" …) and add a sixth. Cells may be numbers or text ("1,316", "2%", "< 1%"), dates may be
M/D/YYYY or D/M/YYYY; the order is decided once per file from values that only one order can read,
the ENGAGEMENT sheet's strictly consecutive days and the dates embedded in post ids. Every sheet is
read and checked before a caller writes anything: a cell that cannot be read refuses the whole file."""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import unquote

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from autopilot.kit.errors import Unprocessable

Row = tuple[Any, ...]
Order = Literal["md", "dm"]
SheetKind = Literal["discovery", "engagement", "top_posts", "followers", "demographics", "post"]

MAX_UNPACKED_BYTES = 100_000_000  # an export is well under 1 MB unpacked; a zip bomb stops here
HEADER_SEARCH_ROWS = 20  # headers are not on row 1 (TOP POSTS: row 3, FOLLOWERS: row 3)
# A post id in a URL or URN: urn:li:activity:<id>, urn%3Ali%3Ashare%3A<id>, /posts/…-ugcPost-<id>-…
POST_ID = re.compile(r"(activity|share|ugcPost)(?::|%3A|-)(\d{15,20})", re.IGNORECASE)
_SLASH_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_TRAILING_DATE = re.compile(r"(\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{1,2}-\d{1,2})\s*:?\s*$")
_RANGE = re.compile(r"^\s*(\S+)\s*[-\u2013]\s*(\S+)\s*$")
_COUNT = re.compile(r"^[-\u2212]?(\d{1,3}(?:[,.\s\u00a0\u202f]\d{3})+|\d+)$")
_PERCENT = re.compile(r"^(\d+(?:[.,]\d+)?)\s*%$")
# "< 1%" and its localized forms: PT-BR is documented (research §1.3); the French, Spanish and German
# forms are guesses.
_UNDER_ONE = re.compile(r"^(<\s*1\s*%|menos de 1\s*%|moins de 1\s*%|menos del 1\s*%|weniger als 1\s*%)$", re.I)
_MONTH_NAME_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y")
_EXCEL_EPOCH = date(1899, 12, 30)
# The per-post export's labels (column A) and the field each fills (research §1.6).
POST_LABELS = {
    "impressions": "impressions",
    "members reached": "members_reached",
    "reactions": "reactions",
    "comments": "comments",
    "reposts": "reposts",
    "saves": "saves",
    "sends on linkedin": "sends",
}


class Cell:
    """Reading one cell of a sheet, with the sheet and row in every refusal."""

    @staticmethod
    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    @staticmethod
    def count(value: Any) -> int | None:
        """A count from a numeric cell or text ("1,316", "5 537", "-28"); None when blank; ValueError
        when unreadable. Counts are whole: "1.316" is read as thousands (PT-BR), never as a decimal."""
        if value is None:
            return None
        if isinstance(value, bool):
            raise ValueError(f"{value} is not a number")
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError(f"{value} is not a whole number")
            return int(value)
        text = str(value).strip()
        if text in ("", "-", "\u2014", "\u2013"):  # a dash: no figure
            return None
        if not _COUNT.match(text):
            raise ValueError(f"{text[:30]!r} is not a number")
        digits = re.sub(r"\D", "", text)
        return -int(digits) if text[0] in "-\u2212" else int(digits)

    @staticmethod
    def share(value: Any) -> tuple[float | None, bool]:
        """A percentage as a fraction, and whether it is LinkedIn's "< 1%" bucket (kept apart: its
        true value is unknown, only below 0.01). Accepts 0.07, "7%", "7,5%", "< 1%", "menos de 1%"."""
        if value is None:
            return None, False
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value), False
        text = str(value).strip()
        if not text:
            return None, False
        if _UNDER_ONE.match(text):
            return None, True
        found = _PERCENT.match(text)
        if found:
            return float(found.group(1).replace(",", ".")) / 100, False
        try:
            return float(text.replace(",", ".")), False
        except ValueError:
            raise ValueError(f"{text[:30]!r} is not a percentage") from None


class Dates:
    """The dates of one file. Slash dates are held as (first, second, year) until the order is known."""

    def __init__(self) -> None:
        self.slashed: list[tuple[int, int, int]] = []
        self.order: Order | None = None

    @staticmethod
    def is_date(value: Any) -> bool:
        if isinstance(value, datetime | date):
            return True
        text = Cell.text(value)
        return bool(_SLASH_DATE.match(text) or _ISO_DATE.match(text) or _named_month(text))

    def note(self, value: Any) -> None:
        found = _SLASH_DATE.match(Cell.text(value)) if isinstance(value, str) else None
        if found:
            self.slashed.append((int(found.group(1)), int(found.group(2)), int(found.group(3))))

    def read(self, value: Any) -> date:
        """*value* as a date under the file's order; ValueError when unreadable."""
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, int | float) and 1 <= value < 2_958_466:  # an Excel serial day
            return _EXCEL_EPOCH + timedelta(days=int(value))
        text = Cell.text(value)
        slashed = _SLASH_DATE.match(text)
        if slashed:
            first, second, year = int(slashed.group(1)), int(slashed.group(2)), int(slashed.group(3))
            return _ordered(first, second, year, self.order or "md")
        iso = _ISO_DATE.match(text)
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        named = _named_month(text)
        if named:
            return named
        raise ValueError(f"{text[:30]!r} is not a date")

    def decide(self, series: Sequence[Sequence[Any]], id_dates: Iterable[tuple[Any, date]]) -> None:
        """Choose M/D or D/M: drop an order that cannot read a value (a 13 in its month place), that
        breaks the strictly consecutive days of a daily series, or that puts a post on another day
        than its id says (±1 day for the member's time zone). When both orders still read every date
        alike or the file cannot tell (one day), M/D: the verified en-US exports use it."""
        possible: list[Order] = ["md", "dm"]
        for first, second, year in self.slashed:
            if not _valid(first, second, year):
                possible = [o for o in possible if o != "md"]
            if not _valid(second, first, year):
                possible = [o for o in possible if o != "dm"]
        if not possible:
            raise Unprocessable("the file's dates read neither as month/day/year nor as day/month/year")
        checks = [(raw, known) for raw, known in id_dates if isinstance(raw, str) and _SLASH_DATE.match(raw.strip())]
        if len(possible) == 2:
            possible = [o for o in possible if _consecutive(series, o)] or possible
        if len(possible) == 2 and checks:
            possible = [o for o in possible if all(abs((_parse(raw, o) - known).days) <= 1 for raw, known in checks)]
            possible = possible or ["md", "dm"]
        self.order = possible[0]


def _valid(month: int, day: int, year: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _ordered(first: int, second: int, year: int, order: Order) -> date:
    month, day = (first, second) if order == "md" else (second, first)
    return date(year, month, day)


def _parse(raw: str, order: Order) -> date:
    found = _SLASH_DATE.match(raw.strip())
    assert found is not None
    return _ordered(int(found.group(1)), int(found.group(2)), int(found.group(3)), order)


def _named_month(text: str) -> date | None:
    for pattern in _MONTH_NAME_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _consecutive(series: Sequence[Sequence[Any]], order: Order) -> bool:
    for values in series:
        slashed = [v.strip() for v in values if isinstance(v, str) and _SLASH_DATE.match(v.strip())]
        if len(slashed) < 2:
            continue
        try:
            days = [_parse(v, order) for v in slashed]
        except ValueError:
            return False
        if any((b - a).days != 1 for a, b in itertools.pairwise(days)):
            return False
    return True


def id_time(post_id: str) -> datetime:
    """The moment a LinkedIn id was minted: its top 41 bits are Unix milliseconds (research §1.4)."""
    return datetime.fromtimestamp((int(post_id) >> 22) / 1000, UTC)


@dataclass(frozen=True)
class PostRef:
    """A post as a file names it: `activity` ids are the feed's, `share`/`ugcPost` ids the API's."""

    kind: str  # activity | share | ugcPost
    number: str

    @property
    def urn(self) -> str:
        return f"urn:li:{self.kind}:{self.number}"

    @property
    def minted_at(self) -> datetime:
        return id_time(self.number)

    @classmethod
    def find(cls, text: str) -> PostRef | None:
        found = POST_ID.search(unquote(text))
        if found is None:
            return None
        kind = {"activity": "activity", "share": "share", "ugcpost": "ugcPost"}[found.group(1).lower()]
        return cls(kind, found.group(2))


@dataclass
class PostFigures:
    """One post of an export with the figures it gives; None = the file does not say."""

    ref: PostRef
    url: str
    published_at: datetime | None
    text: str | None = None
    media_type: str | None = None
    impressions: int | None = None
    members_reached: int | None = None
    reactions: int | None = None
    comments: int | None = None
    reposts: int | None = None
    engagements: int | None = None
    saves: int | None = None
    sends: int | None = None

    FIGURES = ("impressions", "members_reached", "reactions", "comments", "reposts", "engagements", "saves", "sends")

    def has_figures(self) -> bool:
        return any(getattr(self, name) is not None for name in self.FIGURES)


@dataclass
class DayFigures:
    impressions: int | None = None
    engagements: int | None = None
    new_followers: int | None = None
    followers: int | None = None


@dataclass
class Demographic:
    category: str
    value: str
    share: float | None
    under_one_percent: bool


@dataclass
class Workbook:
    """What an .xlsx held, read and checked."""

    kind: str  # creator_export | post_export
    layout: str
    posts: list[PostFigures] = field(default_factory=list)
    days: dict[date, DayFigures] = field(default_factory=dict)
    demographics: list[Demographic] = field(default_factory=list)
    period: tuple[date, date] | None = None


def sheets_of(data: bytes) -> list[tuple[str, list[Row]]]:
    """Every sheet's rows. POI writes `<dimension ref="A1"/>` on every sheet, and openpyxl's
    read-only mode then yields cell A1 alone unless the dimensions are reset (research §1.5)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(member.file_size for member in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise Unprocessable(f"the workbook is larger than {MAX_UNPACKED_BYTES // 1_000_000} MB once unpacked")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Unprocessable:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, EOFError) as exc:
        raise Unprocessable(f"the file is not a readable Excel workbook ({exc})") from None
    try:
        found = []
        for sheet in book.worksheets:
            reset = getattr(sheet, "reset_dimensions", None)
            if reset is not None:
                reset()
            found.append((sheet.title, [tuple(row) for row in sheet.iter_rows(values_only=True)]))
        return found
    except Exception as exc:  # any damage inside the sheets (XML, zlib) is the file's
        raise Unprocessable(f"the workbook is damaged ({type(exc).__name__}: {exc})") from None
    finally:
        book.close()


def _label(value: Any) -> str:
    return Cell.text(value).lower().rstrip(":").strip()


def _at(row: Row, index: int) -> Any:
    return row[index] if index < len(row) else None


def _is_count(value: Any) -> bool:
    try:
        return Cell.count(value) is not None
    except ValueError:
        return False


def _is_url_header(value: Any) -> bool:
    """ "Post URL" (or a localized "URL da publicação"), not a URL itself (a slug may hold "url")."""
    label = _label(value)
    return "url" in label and len(label) <= 40 and not label.startswith("http")


def classify(rows: list[Row]) -> tuple[SheetKind | None, int]:
    """What a sheet holds, from its content, and the row its header (or first label) is on."""
    head = rows[:HEADER_SEARCH_ROWS]
    for number, row in enumerate(head):
        if sum(_is_url_header(c) for c in row) >= 2:
            return "top_posts", number
    for number, row in enumerate(head[:5]):
        first, second = _at(row, 0), _at(row, 1)
        # "Total followers on 12/11/2025:" (localized: "Total de seguidores em 11/12/2025:"): words, then a date
        titled = isinstance(first, str) and re.match(r"^\s*[^\W\d_]", first) is not None
        if titled and _TRAILING_DATE.search(first) and _is_count(second):
            return "followers", number
    for number, row in enumerate(head[:5]):
        found = _RANGE.match(Cell.text(_at(row, 1)))
        if found and Dates.is_date(found.group(1)) and Dates.is_date(found.group(2)):
            return "discovery", number
    labels = {_label(_at(row, 0)) for row in rows}
    if "impressions" in labels and labels & {"post url", "reactions", "comments", "post date"}:
        return "post", 0
    for number, row in enumerate(head):
        if Dates.is_date(_at(row, 0)) and _is_count(_at(row, 1)) and _is_count(_at(row, 2)):
            return "engagement", max(0, number - 1)
    for number, row in enumerate(head):
        third = _label(_at(row, 2))
        if third in ("percentage", "%", "porcentagem", "percentual", "pourcentage", "porcentaje"):
            return "demographics", number
    return None, 0


@dataclass
class _Sheet:
    name: str
    kind: SheetKind
    header: int
    rows: list[Row]

    def where(self, index: int) -> str:
        return f"sheet {self.name!r} row {index + 1}"


def read_workbook(data: bytes) -> Workbook:
    """The creator export or a per-post export, known by its sheets; 422 when neither."""
    sheets = []
    found = sheets_of(data)
    for name, rows in found:
        kind, header = classify(rows)
        if kind is not None:
            sheets.append(_Sheet(name, kind, header, rows))
    kinds = {s.kind for s in sheets}
    if not kinds:
        raise Unprocessable(
            "this workbook has none of the sheets of LinkedIn's analytics exports (DISCOVERY, ENGAGEMENT, "
            "TOP POSTS, FOLLOWERS, DEMOGRAPHICS, or a post's PERFORMANCE): export it from LinkedIn → "
            "Analytics → Post impressions → Export"
        )
    numbers_as_text = any(
        isinstance(cell, str) and _COUNT.match(cell.strip())
        for s in sheets
        if s.kind in ("engagement", "top_posts", "followers", "post")
        for row in s.rows[s.header + 1 :]
        for cell in row[1:]
    )
    if "post" in kinds and not kinds & {"engagement", "top_posts", "followers"}:
        # PostAnalytics_… has PERFORMANCE and TOP DEMOGRAPHICS; SinglePostAnalytics_… one sheet.
        layout = "per-post (SinglePostAnalytics_…)" if len(found) == 1 else "per-post (PostAnalytics_…)"
        return _post_export(next(s for s in sheets if s.kind == "post"), layout)
    return _creator_export([s for s in sheets if s.kind != "post"], numbers_as_text)


def _creator_export(sheets: list[_Sheet], numbers_as_text: bool) -> Workbook:
    dates = Dates()
    series: list[list[Any]] = []
    id_dates: list[tuple[Any, date]] = []
    for sheet in sheets:
        body = sheet.rows[sheet.header + 1 :]
        if sheet.kind == "followers":
            found = _TRAILING_DATE.search(Cell.text(_at(sheet.rows[sheet.header], 0)))
            if found:
                dates.note(found.group(1))
        if sheet.kind in ("engagement", "followers"):
            column = [_at(row, 0) for row in body if Dates.is_date(_at(row, 0))]
            series.append(column)
            for value in column:
                dates.note(value)
        elif sheet.kind == "top_posts":
            for row in body:
                for index, cell in enumerate(row):
                    ref = PostRef.find(Cell.text(cell)) if isinstance(cell, str) else None
                    if ref is not None and Dates.is_date(_at(row, index + 1)):
                        dates.note(_at(row, index + 1))
                        id_dates.append((_at(row, index + 1), ref.minted_at.date()))
        elif sheet.kind == "discovery":
            found = _RANGE.match(Cell.text(_at(sheet.rows[sheet.header], 1)))
            if found:
                dates.note(found.group(1))
                dates.note(found.group(2))
    dates.decide(series, id_dates)

    demographic_sheets = sum(s.kind == "demographics" for s in sheets)
    generation = "2026 (AggregateAnalytics_…)" if numbers_as_text or demographic_sheets > 1 else "2023-2025 (Content_…)"
    book = Workbook(kind="creator_export", layout=f"{generation}, dates {'D/M/Y' if dates.order == 'dm' else 'M/D/Y'}")
    anchor: tuple[date, int] | None = None
    for sheet in sheets:
        try:
            if sheet.kind == "discovery":
                found = _RANGE.match(Cell.text(_at(sheet.rows[sheet.header], 1)))
                assert found is not None
                book.period = (dates.read(found.group(1)), dates.read(found.group(2)))
            elif sheet.kind == "engagement":
                _engagement(sheet, dates, book)
            elif sheet.kind == "followers":
                anchor = _followers(sheet, dates, book)
            elif sheet.kind == "top_posts":
                _top_posts(sheet, dates, book)
            elif sheet.kind == "demographics":
                _demographics(sheet, book)
        except ValueError as exc:
            raise Unprocessable(f"sheet {sheet.name!r}: {exc}") from None
    if anchor is not None:
        _followers_backwards(book.days, *anchor)
    if book.period is None and book.days:
        book.period = (min(book.days), max(book.days))
    return book


def _engagement(sheet: _Sheet, dates: Dates, book: Workbook) -> None:
    for index in range(sheet.header + 1, len(sheet.rows)):
        row = sheet.rows[index]
        if not any(Cell.text(c) for c in row):
            continue
        try:
            day = dates.read(_at(row, 0))
            figures = book.days.setdefault(day, DayFigures())
            figures.impressions = Cell.count(_at(row, 1))
            figures.engagements = Cell.count(_at(row, 2))  # may be negative: LinkedIn reports net figures
        except ValueError as exc:
            raise ValueError(f"row {index + 1}: {exc}") from None


def _followers(sheet: _Sheet, dates: Dates, book: Workbook) -> tuple[date, int] | None:
    title = Cell.text(_at(sheet.rows[sheet.header], 0))
    found = _TRAILING_DATE.search(title)
    total = Cell.count(_at(sheet.rows[sheet.header], 1))
    anchor = (dates.read(found.group(1)), total) if found and total is not None else None
    for index in range(sheet.header + 1, len(sheet.rows)):
        row = sheet.rows[index]
        if not Dates.is_date(_at(row, 0)):
            continue  # the blank row and the "Date | New followers" header
        try:
            book.days.setdefault(dates.read(_at(row, 0)), DayFigures()).new_followers = Cell.count(_at(row, 1))
        except ValueError as exc:
            raise ValueError(f"row {index + 1}: {exc}") from None
    return anchor


def _followers_backwards(days: dict[date, DayFigures], anchor_day: date, total: int) -> None:
    """The export gives only the total on its last day; each earlier day's total is the next day's
    minus the followers gained that next day ("reverse-cumulative from the pinned anchor"). A day
    whose gain is unknown breaks the chain: totals before it stay unknown rather than guessed."""
    if anchor_day not in days:
        return
    running = total
    day = anchor_day
    while day in days:
        days[day].followers = running
        gained = days[day].new_followers
        if gained is None:
            return
        running -= gained
        day -= timedelta(days=1)


def _top_posts(sheet: _Sheet, dates: Dates, book: Workbook) -> None:
    """Two tables side by side (top 50 by engagements, top 50 by impressions); a post in one table
    only has the other figure unknown, not zero."""
    header = sheet.rows[sheet.header]
    tables: list[tuple[int, str]] = []
    for index, cell in enumerate(header):
        if _is_url_header(cell):
            metric_label = _label(_at(header, index + 2))
            if "impress" in metric_label:
                metric = "impressions"
            elif "engag" in metric_label or "engaj" in metric_label:
                metric = "engagements"
            else:  # the verified order: engagements on the left, impressions on the right
                metric = "engagements" if not tables else "impressions"
            tables.append((index, metric))
    merged: dict[PostRef, PostFigures] = {p.ref: p for p in book.posts}
    for row_index in range(sheet.header + 1, len(sheet.rows)):
        row = sheet.rows[row_index]
        for column, metric in tables:
            url = Cell.text(_at(row, column))
            if not url:
                continue
            ref = PostRef.find(url)
            if ref is None:
                raise ValueError(f"row {row_index + 1}: {url[:80]!r} names no LinkedIn post")
            try:
                value = Cell.count(_at(row, column + 2))
                published = _published(ref, dates.read(_at(row, column + 1)))
            except ValueError as exc:
                raise ValueError(f"row {row_index + 1}: {exc}") from None
            post = merged.get(ref)
            if post is None:
                post = merged[ref] = PostFigures(ref=ref, url=url, published_at=published)
                book.posts.append(post)
            setattr(post, metric, value)


def _published(ref: PostRef, day: date | None) -> datetime | None:
    """To the second from the id when it carries a plausible time, else midnight UTC of the day."""
    minted = ref.minted_at
    if day is None or abs((minted.date() - day).days) <= 1:
        return minted
    return datetime.combine(day, time(), UTC)


def _demographics(sheet: _Sheet, book: Workbook) -> None:
    category = ""
    for index in range(sheet.header + 1, len(sheet.rows)):
        row = sheet.rows[index]
        if not Cell.text(_at(row, 1)):
            continue
        category = Cell.text(_at(row, 0)) or category
        try:
            share, under = Cell.share(_at(row, 2))
        except ValueError as exc:
            raise ValueError(f"row {index + 1}: {exc}") from None
        book.demographics.append(Demographic(category, Cell.text(_at(row, 1)), share, under))


def _post_export(sheet: _Sheet, layout: str) -> Workbook:
    """`PostAnalytics_…` (PERFORMANCE sheet) or `SinglePostAnalytics_…` (one sheet): labels in
    column A, values in column B, at positions that vary between files."""
    values: dict[str, Any] = {}
    for row in sheet.rows:
        label = _label(_at(row, 0))
        if label and label not in values and _at(row, 1) is not None:
            values[label] = _at(row, 1)
    url = Cell.text(values.get("post url"))
    ref = PostRef.find(url)
    if ref is None:
        raise Unprocessable(f"sheet {sheet.name!r}: the per-post export names no post (Post URL {url[:80]!r})")
    day: date | None = None
    raw_day = values.get("post date")
    if raw_day is not None:
        dates = Dates()
        dates.note(raw_day)
        dates.decide([], [(raw_day, ref.minted_at.date())])
        try:
            day = dates.read(raw_day)
        except ValueError as exc:
            raise Unprocessable(f"sheet {sheet.name!r}: Post Date: {exc}") from None
    post = PostFigures(ref=ref, url=url, published_at=_published(ref, day))
    for label, name in POST_LABELS.items():
        try:
            setattr(post, name, Cell.count(values.get(label)))
        except ValueError as exc:
            raise Unprocessable(f"sheet {sheet.name!r}: {label.capitalize()}: {exc}") from None
    book = Workbook(kind="post_export", layout=layout, posts=[post])
    if day is not None:
        book.period = (day, day)
    return book
