"""Home, and the sections not yet built, which say so plainly."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from autopilot.accounts.deps import MaybeCaller, PageCaller
from autopilot.web.templating import Nav, render

router = APIRouter(include_in_schema=False)
COMING = {
    "inbox": ("Inbox", "Messages from WhatsApp, e-mail, Instagram and LinkedIn, with drafted replies."),
}
IN_BAR = {"inbox": 3}  # a daily section: in the phone's bottom bar (Today 1, Approvals 2, Calendar 4)
# Today is the brand link in the top bar; on a phone it is the bottom bar's first place.
NAV = [Nav("home", "Today", "/", bar=1, tab=False)] + [
    Nav(key, label, f"/{key}", bar=IN_BAR.get(key, 0)) for key, (label, _blurb) in COMING.items()
]


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, caller: MaybeCaller) -> Response:
    if caller is None:
        return render(request, "welcome.html")
    return render(request, "home.html", caller=caller, active="home")


def _coming_page(section: str) -> None:
    title, blurb = COMING[section]

    async def page(request: Request, caller: PageCaller) -> Response:
        return render(request, "coming.html", caller=caller, active=section, title=title, blurb=blurb)

    router.add_api_route(f"/{section}", page, methods=["GET"], response_class=HTMLResponse, name=f"page_{section}")


for _section in COMING:
    _coming_page(_section)
