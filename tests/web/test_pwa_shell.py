"""The installable app's files as a browser fetches them: the manifest, the service worker at the
root scope (its headers, its build line), the icons it names, and the pages that point to them."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import httpx
from PIL import Image

from autopilot.web import pwa
from tests.support.accounts import Account, log_in_with_the_form
from tests.support.icons import ICONS, VARIANTS, draw
from tests.web.test_security_headers import directives


async def test_the_manifest_names_the_app_its_standalone_display_and_installable_icons(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/manifest.webmanifest")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/manifest+json"
    manifest = answer.json()
    assert manifest["name"] == "TechLead AutoPilot" and manifest["short_name"] == "AutoPilot"
    where = (manifest["id"], manifest["start_url"], manifest["scope"], manifest["display"])
    assert where == ("/", "/", "/", "standalone")
    for colour in ("theme_color", "background_color"):
        assert re.fullmatch(r"#[0-9a-f]{6}", manifest[colour]), colour
    purposes: dict[str, set[int]] = {}
    for icon in manifest["icons"]:
        served = await client.get(icon["src"])
        assert served.status_code == 200 and served.headers["content-type"] == "image/png", icon
        image = Image.open(io.BytesIO(served.content))
        width, height = (int(n) for n in icon["sizes"].split("x"))
        assert image.size == (width, height), f"{icon['src']} is {image.size}, the manifest says {icon['sizes']}"
        purposes.setdefault(icon["purpose"], set()).add(width)
    assert purposes == {"any": {192, 512}, "maskable": {512}}


def test_the_committed_icons_are_the_drawing_and_a_maskable_one_fills_every_pixel() -> None:
    for name, size, kind in VARIANTS:
        committed = Image.open(ICONS / name)
        drawn = Image.open(io.BytesIO(draw(size, kind)))
        assert committed.size == (size, size) and committed.mode == "RGBA", name
        assert committed.tobytes() == drawn.tobytes(), f"{name} differs from tests/support/icons.py: regenerate it"
        corners = [committed.getpixel(xy) for xy in ((0, 0), (size - 1, 0), (0, size - 1), (size - 1, size - 1))]
        if kind == "maskable":  # launchers crop it to their own shape: no transparent pixel may show
            assert all(pixel[3] == 255 for pixel in corners), name  # type: ignore[index]
        else:
            assert all(pixel[3] == 0 for pixel in corners), name  # type: ignore[index]


async def test_the_service_worker_is_served_at_the_root_with_this_builds_version_and_shell(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["service-worker-allowed"] == "/"
    assert answer.headers["cache-control"] == "no-cache"
    policy = directives(answer.headers["content-security-policy"])
    # It may fetch, cache and import from this origin only (the locked policy of other files would stop it).
    assert policy["default-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"] and policy["script-src"] == ["'self'"]
    first_line, _, rest = answer.text.partition("\n")
    build = json.loads(first_line.removeprefix("const BUILD = ").removesuffix(";"))
    assert re.fullmatch(r"[0-9a-f]{16}", build["version"])
    assert build["shell"][0] == "/offline"
    for path in build["shell"]:
        fetched = await client.get(path)
        assert fetched.status_code == 200, f"the worker precaches {path}, which answers {fetched.status_code}"
    needed = {"/static/app.css", "/static/pwa.js", "/static/outbox.js", "/static/icons/icon-192.png"}
    assert needed <= set(build["shell"])
    assert 'importScripts("/static/outbox.js")' in rest


def test_the_version_changes_with_any_shell_file_so_browsers_install_the_new_worker(tmp_path: Path) -> None:
    for name in ("sw.js", *pwa.SHELL_FILES):
        if (pwa.STATIC / name).exists():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(pwa.STATIC / name, tmp_path / name)
    version = re.compile(r'"version": "([0-9a-f]{16})"')

    def built() -> str:
        found = version.search(pwa.build_service_worker(tmp_path, pwa.SHELL_FILES))
        assert found is not None
        return found.group(1)

    assert built() == version.search(pwa.service_worker_source()).group(1)  # type: ignore[union-attr]
    with (tmp_path / "app.css").open("a") as css:
        css.write("\n.new-rule { color: red; }\n")
    after_css = built()
    assert after_css != version.search(pwa.service_worker_source()).group(1)  # type: ignore[union-attr]
    with (tmp_path / "sw.js").open("a") as worker:
        worker.write("\n// a new handler\n")
    assert built() != after_css


async def test_pages_link_the_manifest_and_allow_the_worker_and_manifest_from_this_origin_only(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await log_in_with_the_form(client, alice)
    home = await client.get("/")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in home.text
    assert '<meta name="theme-color" content="#0f4c81">' in home.text
    assert '<script src="/static/pwa.js" defer></script>' in home.text
    policy = directives(home.headers["content-security-policy"])
    assert policy["worker-src"] == ["'self'"] and policy["manifest-src"] == ["'self'"]
    offline = await client.get("/offline")
    assert offline.status_code == 200 and "You are offline" in offline.text
