"""LinkedIn's analytics files, built to the documented layouts (research: linkedin-analytics-and-leads.md
§1.2, §1.3, §1.6, §1.8): the creator export in its 2023-2025 form (`Content_…`: numeric cells, M/D/YYYY,
five English sheets) and its 2026 form (`AggregateAnalytics_…`: numbers and percentages as text, six
sheets with PT-BR names, dd/mm/yyyy, and `<dimension ref="A1"/>` on every sheet as Apache POI writes
it), a post's export (`PostAnalytics_…`), and the data archive's Shares.csv."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from openpyxl import Workbook


def minted(at: datetime, sequence: int = 1) -> str:
    """A LinkedIn id minted at *at*: Unix milliseconds in the top bits, then 22 bits of sequence."""
    return str((int(at.timestamp() * 1000) << 22) | sequence)


def activity_url(post_id: str) -> str:
    return f"https://www.linkedin.com/feed/update/urn:li:activity:{post_id}"


@dataclass
class TopPost:
    at: datetime  # when it was published (the id's time)
    engagements: int | None = None  # None: not in the top-by-engagements table
    impressions: int | None = None  # None: not in the top-by-impressions table

    @property
    def activity_id(self) -> str:
        return minted(self.at, 7)

    @property
    def url(self) -> str:
        return activity_url(self.activity_id)


@dataclass
class CreatorExport:
    """The figures an export holds: one row per day, the followers total on the last day, top posts."""

    first_day: date
    impressions: list[int]
    engagements: list[int]
    new_followers: list[int]
    total_followers: int
    posts: list[TopPost] = field(default_factory=list)
    demographics: Sequence[tuple[str, str, float | str]] = (
        ("Job titles", "Data Engineer", 0.0699),
        ("Locations", "Lisbon", 0.1758),
        ("Companies", "Amazon", "< 1%"),
    )

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(len(self.impressions))]

    @property
    def last_day(self) -> date:
        return self.days[-1]


def _md(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"  # no zero padding: 7/5/2025


def _dm(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _save(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def creator_export_2025(export: CreatorExport) -> bytes:
    """The `Content_<start>_<end>_<Name>.xlsx` layout: numbers as numbers, dates as M/D/YYYY text."""
    book = Workbook()
    discovery = book.active
    assert discovery is not None
    discovery.title = "DISCOVERY"
    discovery.append(["Overall Performance", f"{_md(export.days[0])} - {_md(export.last_day)}"])
    discovery.append(["Impressions", sum(export.impressions)])
    discovery.append(["Members reached", sum(export.impressions) // 3])
    engagement = book.create_sheet("ENGAGEMENT")
    engagement.append(["Date", "Impressions", "Engagements"])
    for day, shown, engaged in zip(export.days, export.impressions, export.engagements, strict=True):
        engagement.append([_md(day), shown, engaged])
    top = book.create_sheet("TOP POSTS")
    top.append(["Maximum of 50 posts available to include in this list"])
    top.append([])
    top.append(["Post URL", "Post publish date", "Engagements", None, "Post URL", "Post publish date", "Impressions"])
    for left, right in _top_tables(export.posts):
        row: list[object] = [None] * 7
        if left is not None:
            row[0:3] = [left.url, _md(left.at.date()), left.engagements]
        if right is not None:
            row[4:7] = [right.url, _md(right.at.date()), right.impressions]
        top.append(row)
    followers = book.create_sheet("FOLLOWERS")
    followers.append([f"Total followers on {_md(export.last_day)}:", export.total_followers])
    followers.append([])
    followers.append(["Date", "New followers"])
    for day, gained in zip(export.days, export.new_followers, strict=True):
        followers.append([_md(day), gained])
    demographics = book.create_sheet("DEMOGRAPHICS")
    demographics.append(["Top Demographics", "Value", "Percentage"])
    for row_values in export.demographics:
        demographics.append(list(row_values))
    return _save(book)


def _top_tables(posts: list[TopPost]) -> list[tuple[TopPost | None, TopPost | None]]:
    by_engagements = sorted((p for p in posts if p.engagements is not None), key=lambda p: -(p.engagements or 0))
    by_impressions = sorted((p for p in posts if p.impressions is not None), key=lambda p: -(p.impressions or 0))
    rows = max(len(by_engagements), len(by_impressions))
    return [
        (
            by_engagements[i] if i < len(by_engagements) else None,
            by_impressions[i] if i < len(by_impressions) else None,
        )
        for i in range(rows)
    ]


def _text_number(value: int) -> str:
    return f"{value:,}"  # "1,316": the 2026 files store numbers as text


def creator_export_2026(export: CreatorExport, *, dimension_quirk: bool = True) -> bytes:
    """The `AggregateAnalytics_<Name>_<start>_<end>.xlsx` layout as a PT-BR member downloads it:
    localized sheet names, dd/mm/yyyy, numbers and percentages as text, two demographics sheets."""
    book = Workbook()
    discovery = book.active
    assert discovery is not None
    discovery.title = "Descoberta"
    discovery.append(["Desempenho geral", f"{_dm(export.days[0])} - {_dm(export.last_day)}"])
    discovery.append(["Impressões", _text_number(sum(export.impressions))])
    discovery.append(["Membros alcançados", _text_number(sum(export.impressions) // 3)])
    engagement = book.create_sheet("Engajamento")
    engagement.append(["Data", "Impressões", "Engajamentos"])
    for day, shown, engaged in zip(export.days, export.impressions, export.engagements, strict=True):
        engagement.append([_dm(day), _text_number(shown), _text_number(engaged)])
    top = book.create_sheet("Publicações mais em alta")
    top.append(["Maximum of 50 posts available to include in this list"])
    top.append([])
    top.append(["Post URL", "Post Publish Date", "Engagements", None, "Post URL", "Post Publish Date", "Impressions"])
    for left, right in _top_tables(export.posts):
        row: list[object] = [None] * 7
        if left is not None:
            row[0:3] = [left.url, _dm(left.at.date()), _text_number(left.engagements or 0)]
        if right is not None:
            row[4:7] = [right.url, _dm(right.at.date()), _text_number(right.impressions or 0)]
        top.append(row)
    followers = book.create_sheet("Seguidores")
    followers.append([f"Total de seguidores em {_dm(export.last_day)}:", _text_number(export.total_followers)])
    followers.append([])
    followers.append(["Data", "Novos seguidores"])
    for day, gained in zip(export.days, export.new_followers, strict=True):
        followers.append([_dm(day), _text_number(gained)])
    for title in ("Dados demográficos do público", "Dados demográficos do conteúdo"):
        sheet = book.create_sheet(title[:31])
        sheet.append(["Principais dados demográficos", "Valor", "Porcentagem"])
        sheet.append(["Cargos", "Engenheiro de dados", "7%"])
        sheet.append(["Empresas", "Amazon", "< 1%"])
        sheet.append(["Localidades", "São Paulo", "menos de 1%"])
    data = _save(book)
    return with_dimension_a1(data) if dimension_quirk else data


_DIMENSION = re.compile(rb"<dimension ref=\"[^\"]*\"\s*/>")


def with_dimension_a1(xlsx: bytes) -> bytes:
    """Every sheet's `<dimension>` set to A1, as LinkedIn's Apache POI writes it (research §1.5):
    openpyxl's read-only mode then sees only cell A1 unless the reader resets the dimensions."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                data, count = _DIMENSION.subn(b'<dimension ref="A1"/>', data)
                assert count == 1, f"{item.filename} has no <dimension> to rewrite"
            target.writestr(item, data)
    return out.getvalue()


@dataclass
class PostExport:
    url: str
    day: date
    impressions: int
    members_reached: int
    reactions: int
    comments: int
    reposts: int
    saves: int
    sends: int


def post_export(post: PostExport) -> bytes:
    """`PostAnalytics_<Name>_<postId>.xlsx`: PERFORMANCE (labels in column A at positions that vary,
    numbers as "1,316" text) and TOP DEMOGRAPHICS."""
    book = Workbook()
    performance = book.active
    assert performance is not None
    performance.title = "PERFORMANCE"
    for label, value in (
        ("Post URL", post.url),
        ("Post Date", post.day.strftime("%b %d, %Y").replace(" 0", " ")),
        ("Post Publish Time", "6:30 AM"),
        (None, None),
        ("Impressions", _text_number(post.impressions)),
        ("Members reached", _text_number(post.members_reached)),
        ("Profile viewers from this post", "12"),
        ("Followers gained from this post", "3"),
        (None, None),
        ("Social engagements", _text_number(post.reactions + post.comments + post.reposts)),
        ("Reactions", _text_number(post.reactions)),
        ("Comments", _text_number(post.comments)),
        ("Reposts", _text_number(post.reposts)),
        ("Saves", _text_number(post.saves)),
        ("Sends on LinkedIn", _text_number(post.sends)),
    ):
        performance.append([label, value])
    demographics = book.create_sheet("TOP DEMOGRAPHICS")
    demographics.append(["Category", "Value", "%"])
    demographics.append(["Job title", "Software Engineer", "12%"])
    demographics.append(["Company", "Acme", "< 1%"])
    return _save(book)


def single_post_export(post: PostExport) -> bytes:
    """`SinglePostAnalytics_<Name>_<postId>.xlsx`: one sheet, key/value rows, then the viewers'
    demographics headed Category, Value, %."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Post analytics"
    for row in (
        ("Post analytics",),
        ("Post URL", post.url),
        ("Post Date", f"{post.day.month}/{post.day.day}/{post.day.year}"),
        ("Post Publish Time", "6:30 AM"),
        ("Impressions", _text_number(post.impressions)),
        ("Members reached", _text_number(post.members_reached)),
        ("Reactions", _text_number(post.reactions)),
        ("Comments", _text_number(post.comments)),
        ("Reposts", _text_number(post.reposts)),
        ("Saves", _text_number(post.saves)),
        ("Sends on LinkedIn", _text_number(post.sends)),
        (),
        ("Post viewer demographics",),
        ("Category", "Value", "%"),
        ("Job title", "Software Engineer", "12%"),
        ("Company", "Acme", "< 1%"),
    ):
        sheet.append(list(row))
    return _save(book)


SHARES_HEADER = ("Date", "ShareLink", "ShareCommentary", "SharedUrl", "MediaUrl", "Visibility")


@dataclass
class Share:
    at: datetime
    text: str
    media_url: str = ""

    @property
    def share_id(self) -> str:
        return minted(self.at, 3)

    @property
    def link(self) -> str:
        # As in the archive: the URN URL-encoded.
        return f"https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A{self.share_id}"


def shares_csv(shares: Sequence[Share]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SHARES_HEADER)
    for share in shares:
        stamp = share.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow([stamp, share.link, share.text, "", share.media_url, "MEMBER_NETWORK"])
    return out.getvalue().encode()


CONNECTIONS_CSV = (
    b'Notes:\r\n"When exporting your connection data, some e-mail addresses may be missing."\r\n\r\n'
    b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
    b"Dana,Lee,https://www.linkedin.com/in/dana-lee,,Acme,CTO,15 Jun 2025\r\n"
)


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()
