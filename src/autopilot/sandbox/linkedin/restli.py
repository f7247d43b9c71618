"""Rest.li 2.0 query and path-key decoding (contract §2.3): `List(a,b)`, `(k:v)`, percent-encoded leaves."""

from __future__ import annotations

from urllib.parse import unquote, unquote_plus

RestliValue = str | list["RestliValue"] | dict[str, "RestliValue"]


def query_params(raw_query: bytes | str) -> dict[str, RestliValue]:
    """Parse a raw query string; Rest.li syntax is read before percent-decoding, as LinkedIn does."""
    text = raw_query.decode("latin-1") if isinstance(raw_query, bytes) else raw_query
    params: dict[str, RestliValue] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        params[unquote_plus(name)] = decode(value)
    return params


def decode(text: str) -> RestliValue:
    """One Rest.li-encoded value."""
    if text.startswith("List(") and text.endswith(")"):
        return [decode(item) for item in _split(text[5:-1])]
    if text.startswith("(") and text.endswith(")"):
        record: dict[str, RestliValue] = {}
        for item in _split(text[1:-1]):
            key, _, value = item.partition(":")
            record[unquote(key)] = decode(value)
        return record
    return "" if text == "''" else unquote(text)


def _split(body: str) -> list[str]:
    """Split at the commas that are not inside parentheses."""
    items: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    if body:
        items.append(body[start:])
    return items


def as_int(value: RestliValue | None, default: int) -> int:
    try:
        return int(value) if isinstance(value, str) else default
    except ValueError:
        return default
