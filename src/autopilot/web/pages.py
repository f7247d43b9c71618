"""The app shell: home and the sections not yet built, which say so plainly."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from autopilot.web.session import MaybeCaller, PageCaller
from autopilot.web.templating import NAV, render

router = APIRouter(include_in_schema=False)
COMING = {
    "calendar": "Your posting calendar: drafts and their slots (Tue/Thu 06:30 in your time zone by default).",
    "approvals": "Drafts waiting for your approval, one tap each.",
    "inbox": "Messages from WhatsApp, e-mail, Instagram and LinkedIn, with drafted replies.",
    "leads": "People whose engagement looks like buying interest.",
    "analytics": "Which posts and times work for you.",
    "integrations": "Connect LinkedIn and your messaging channels.",
}


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, caller: MaybeCaller) -> Response:
    if caller is None:
        return render(request, "welcome.html")
    return render(request, "home.html", caller=caller, active="home")


def _coming_page(section: str) -> None:
    async def page(request: Request, caller: PageCaller) -> Response:
        return render(
            request, "coming.html", caller=caller, active=section, title=dict(NAV)[section], blurb=COMING[section]
        )

    router.add_api_route(f"/{section}", page, methods=["GET"], response_class=HTMLResponse, name=f"page_{section}")


for _section in COMING:
    _coming_page(_section)
