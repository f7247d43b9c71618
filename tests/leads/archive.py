"""LinkedIn's data archive files, built to the documented layouts (research G §1.8): Connections.csv
with its "Notes:" preamble, Invitations.csv, messages.csv and Profile.csv, zipped like the download."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta

from autopilot.kit.time import utcnow

MESSAGES_HEADER = (
    "CONVERSATION ID",
    "CONVERSATION TITLE",
    "FROM",
    "SENDER PROFILE URL",
    "TO",
    "RECIPIENT PROFILE URLS",
    "DATE",
    "SUBJECT",
    "CONTENT",
    "FOLDER",
    "ATTACHMENTS",
)
CONNECTIONS_HEADER = ("First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On")
INVITATIONS_HEADER = ("From", "To", "Sent At", "Message", "Direction", "inviterProfileUrl", "inviteeProfileUrl")
PROFILE_HEADER = (
    "First Name",
    "Last Name",
    "Maiden Name",
    "Address",
    "Birth Date",
    "Headline",
    "Summary",
    "Industry",
    "Zip Code",
    "Geo Location",
    "Twitter Handles",
    "Websites",
    "Instant Messengers",
)
CONNECTIONS_NOTES = (
    "Notes:\n"
    '"When exporting your connection data, you may notice that some of the email addresses are missing. '
    "You will only see email addresses for connections who have allowed their connections to see or download "
    'their email address."\n'
    "\n"
)
ME = "Alice Martin"
PROFILES = "https://www.linkedin.com/in"
ME_URL = f"{PROFILES}/alice-martin"


def csv_bytes(header: tuple[str, ...], rows: list[tuple[str, ...]], preamble: str = "") -> bytes:
    out = io.StringIO(newline="")
    out.write(preamble)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def message_date(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"  # messages.csv: 2026-08-31 21:20:46 UTC


def connected_on(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"  # Connections.csv: 15 Jun 2024


def sent_at(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{moment.month}/{moment.day}/{moment:%y}, {hour}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'}"


def message(conversation: str, sender: str, sender_url: str, to: str, at: datetime, content: str) -> tuple[str, ...]:
    to_url = ME_URL if to == ME else f"{PROFILES}/{to.lower().replace(' ', '-')}"
    return (conversation, "", sender, sender_url, to, to_url, message_date(at), "", content, "INBOX", "")


def scenario_files(now: datetime | None = None) -> dict[str, bytes]:
    """The acceptance scenario's archive: Dana (a CTO) asks for a call about an architecture review,
    Priya asks for rates for an audit, a recruiter and a friend write too, Alice answers some."""
    now = now or utcnow()
    day = timedelta(days=1)
    dana, priya = f"{PROFILES}/dana-lee", f"{PROFILES}/priya-shah"
    asks = "Hi Alice, could we book a call about an architecture review next week?"
    rates = "What are your day rates for a two-week security audit? We have budget this quarter."
    recruiter = "Exciting new opportunity: a permanent role as Senior Engineer. Open to it?"
    messages = [
        message("conv-dana", "Dana Lee", dana, ME, now - 2 * day, asks),
        message("conv-dana", ME, ME_URL, "Dana Lee", now - 2 * day + timedelta(hours=1), "Sure: book a call Tuesday?"),
        message("conv-sam", "Sam Hunter", f"{PROFILES}/sam-hunter", ME, now - 3 * day, recruiter),
        message("conv-priya", "Priya Shah", priya, ME, now - 5 * day, rates),
        message("conv-tom", ME, ME_URL, "Tom Baker", now - 6 * day, "Congrats on the new job! Let's book a call."),
    ]
    connections = [
        ("Dana", "Lee", dana, "dana@acme.example", "Acme", "CTO", connected_on(now - 10 * day)),
        ("Joe", "Bloggs", f"{PROFILES}/joe-bloggs", "", "", "Student", connected_on(now - 4 * day)),
    ]
    invitations = [
        ("Max Weber", ME, sent_at(now - day), "Would love to connect!", "INCOMING", f"{PROFILES}/max-weber", ME_URL),
        (ME, "Tom Baker", sent_at(now - 7 * day), "", "OUTGOING", ME_URL, f"{PROFILES}/tom-baker"),
    ]
    return {
        "messages.csv": csv_bytes(MESSAGES_HEADER, messages),
        "Connections.csv": csv_bytes(CONNECTIONS_HEADER, connections, CONNECTIONS_NOTES),
        "Invitations.csv": csv_bytes(INVITATIONS_HEADER, invitations),
        "Profile.csv": csv_bytes(PROFILE_HEADER, [("Alice", "Martin", "", "", "", "Fractional CTO", *[""] * 7)]),
        "Rich_Media.csv": b"Date/Time,Media Description,Media Link\r\n",  # a file the import has no use for
    }


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()
