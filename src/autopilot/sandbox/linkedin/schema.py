"""Rest.li schema validation of a post body (contract §3.2): the 422 `ERROR :: /path :: reason` lines."""

from __future__ import annotations

import json
from typing import Any

# A field: (type, required, detail); detail is a sub-schema for records, the symbols for enums.
Field = tuple[str, bool, Any]

CONTENT: dict[str, Field] = {
    "media": ("record", False, {"id": ("string", True, None), "altText": ("string", False, None),
                                "title": ("string", False, None)}),
    "multiImage": ("record", False, {"images": ("array", True, None), "altText": ("string", False, None)}),
    "article": ("record", False, {"source": ("string", True, None), "title": ("string", False, None),
                                  "description": ("string", False, None), "thumbnail": ("string", False, None),
                                  "thumbnailAltText": ("string", False, None)}),
    "poll": ("record", False, None),
    "reference": ("record", False, None),
    "celebration": ("record", False, None),
}  # fmt: skip

POST: dict[str, Field] = {
    "author": ("string", True, None),
    "commentary": ("string", True, None),
    "visibility": ("enum", True, ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER")),
    "distribution": ("record", True, {
        "feedDistribution": ("enum", True, ("MAIN_FEED", "NONE")),
        "targetEntities": ("array", False, None),
        "thirdPartyDistributionChannels": ("array", False, None),
    }),
    "lifecycleState": ("enum", True, ("PUBLISHED", "DRAFT", "PUBLISH_REQUESTED", "PUBLISH_FAILED")),
    "isReshareDisabledByAuthor": ("boolean", False, None),
    "content": ("record", False, CONTENT),
    "reshareContext": ("record", False, {"parent": ("string", True, None), "root": ("string", False, None)}),
    "contentLandingPage": ("string", False, None),
    "contentCallToActionLabel": ("string", False, None),
    "adContext": ("record", False, None),
    "container": ("string", False, None),
}  # fmt: skip

EDITABLE: dict[str, Field] = {
    name: POST[name]
    for name in ("commentary", "contentCallToActionLabel", "contentLandingPage", "lifecycleState", "adContext")
}


def errors(value: dict[str, Any], schema: dict[str, Field], path: str = "", partial: bool = False) -> list[str]:
    """Every violation of *schema* in *value*, as Rest.li words it; *partial* skips required fields."""
    found: list[str] = []
    for name, (kind, required, detail) in schema.items():
        where = f"{path}/{name}"
        if name not in value:
            if required and not partial:
                found.append(f"{where} :: field is required but not found and has no default value")
            continue
        found.extend(_type_errors(value[name], kind, detail, where))
    found.extend(f"{path}/{name} :: unrecognized field found but not allowed" for name in value if name not in schema)
    return found


def _type_errors(item: Any, kind: str, detail: Any, where: str) -> list[str]:
    shown = json.dumps(item)
    if kind in ("string", "enum") and not isinstance(item, str):
        return [f"{where} :: {shown} cannot be coerced to String"]
    if kind == "enum" and item not in detail:
        return [f'{where} :: "{item}" is not an enum symbol']
    if kind == "boolean" and not isinstance(item, bool):
        return [f"{where} :: {shown} cannot be coerced to Boolean"]
    if kind == "array" and not isinstance(item, list):
        return [f"{where} :: {shown} is not backed by a DataList"]
    if kind == "record":
        if not isinstance(item, dict):
            return [f"{where} :: {shown} is not backed by a DataMap"]
        if detail is not None:
            return errors(item, detail, where)
    return []
