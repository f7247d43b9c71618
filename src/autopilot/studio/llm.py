"""The optional LLM engine: any OpenAI-compatible server through the official `openai` SDK.

The prompt carries the structure (its parts, one phrasing each as an example), the topic and key
points, the writer's profile and voice examples. The answer is checked like the offline generator's
output: not empty, not stopped at the token limit, no placeholder left, within LinkedIn's 3,000
characters after escaping once the hashtags are on. A post that fails is refused with the reason,
never cut to fit. The server's failures become problems a person can act on:

  401/403 → 502 (the key)        429 → 503 with Retry-After   5xx and others → 502
  no answer in time → 504        unreachable → 503            unusable answer → 502

Nothing is saved when any of these happens: the draft is written only after a good answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import openai
from openai.types.chat import ChatCompletionMessageParam

from autopilot.config import Settings
from autopilot.kit.errors import AppError
from autopilot.kit.logging import log
from autopilot.linkedin.text import COMMENTARY_LIMIT, commentary_length
from autopilot.studio import generator
from autopilot.studio.generator import Profile, Request
from autopilot.studio.hashtags import line as hashtag_line
from autopilot.studio.structures import Structure
from autopilot.studio.voice import read_voice

ASKED_CHARS = 2_400  # what the prompt asks for: room left for the hashtags and for escaping
MAX_TOKENS = 1_200  # ~4,800 characters: a model that runs long is refused for length, not cut mid-word
TEMPERATURE = 0.7
OFFLINE_HINT = "or choose the offline engine, which needs no server"


class LLMBadGateway(AppError):
    status, title = 502, "Bad gateway"


class LLMUnavailable(AppError):
    status, title = 503, "Service unavailable"


class LLMTimedOut(AppError):
    status, title = 504, "Gateway timeout"


@dataclass(frozen=True)
class Written:
    text: str  # the model's post, hashtags added on the last line when it wrote none
    model: str
    hashtags: tuple[str, ...]
    notes: tuple[str, ...]


SYSTEM = (
    "You write LinkedIn posts for a technical consultant, in the consultant's own voice. "
    "Write plain text only: no markdown, no headings, no bold, and no placeholders such as [Company] or {name}. "
    "Do not add hashtags; they are added afterwards. "
    f"Keep the whole post under {ASKED_CHARS:,} characters. Answer with the post and nothing else."
)


def messages(structure: Structure, profile: Profile, request: Request) -> list[ChatCompletionMessageParam]:
    """The chat messages for one post: the rules, then the structure, request, profile and voice."""
    voice = read_voice(profile.voice_examples)
    fields = generator.fields_for(profile, request.topic, voice)
    examples = {
        "hook": structure.hooks[0],
        "body": structure.intros[0],
        "turn": structure.turns[0],
        "takeaway": structure.takeaways[0],
        "call to action": (structure.questions if voice.asks_questions else structure.statements)[0],
    }
    lines = [
        "Write one LinkedIn post.",
        "",
        f"Topic: {generator.clean(request.topic)}",
        f"Structure: {structure.name}: {structure.description}",
        "Parts, in this order (adapt the example phrasing, do not copy it):",
        *(f"  {part}: {generator.render(t, fields, voice)}" for part, t in examples.items()),
    ]
    points = [p for p in (generator.clean(k) for k in request.key_points) if p]
    if points:
        lines += ["Key points to cover:", *(f"- {p}" for p in points)]
    if profile.about.strip():
        lines.append(f"About the author: {generator.clean(profile.about)}")
    lines.append(f"Audience: {fields['audience']}")
    if profile.topics:
        lines.append(f"The author usually writes about: {', '.join(generator.clean(t) for t in profile.topics)}")
    lines += ["Voice:", *(f"  {note}" for note in voice.notes)]
    for number, example in enumerate((e for e in profile.voice_examples if e.strip()), 1):
        lines += [f"Voice example {number} (match its tone, sentence length, emoji and line breaks):"]
        lines += ['"""', example.strip(), '"""']
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def _where(base_url: str) -> str:
    parts = urlsplit(base_url)
    return parts.netloc or base_url


def _failure(exc: openai.APIError, base_url: str, model: str) -> AppError:
    """The SDK's error as a problem that says what happened and what to do."""
    where = _where(base_url)
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: it is one
        return LLMTimedOut(
            f"The LLM server at {where} did not answer in time; nothing was saved. Try again, raise "
            f"AUTOPILOT_LLM_TIMEOUT_S, {OFFLINE_HINT}."
        )
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable(
            f"The LLM server at {where} could not be reached; nothing was saved. Check that it is running and "
            f"that AUTOPILOT_LLM_BASE_URL points at it, {OFFLINE_HINT}."
        )
    if not isinstance(exc, openai.APIStatusError):
        return LLMBadGateway(f"The LLM server at {where} gave an answer that could not be read; nothing was saved.")
    status = exc.status_code
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return LLMBadGateway(
            f"The LLM server at {where} refused our API key ({status}); nothing was saved. Check "
            f"AUTOPILOT_LLM_API_KEY, {OFFLINE_HINT}."
        )
    if isinstance(exc, openai.RateLimitError):
        retry_after = exc.response.headers.get("retry-after", "")
        wait = f"in {retry_after} seconds" if retry_after.isdigit() else "in a minute"
        return LLMUnavailable(
            f"The LLM server at {where} is rate limiting us (429); nothing was saved. Try again {wait}, "
            f"{OFFLINE_HINT}.",
            headers={"Retry-After": retry_after} if retry_after.isdigit() else {},
        )
    if isinstance(exc, openai.NotFoundError):
        return LLMBadGateway(
            f"The LLM server at {where} does not know the model {model!r} (404); nothing was saved. Check "
            "AUTOPILOT_LLM_MODEL."
        )
    return LLMBadGateway(
        f"The LLM server at {where} failed ({status}); nothing was saved. Try again in a minute, {OFFLINE_HINT}."
    )


def _unusable(reason: str) -> LLMBadGateway:
    return LLMBadGateway(
        f"The model's post cannot be used: {reason}. Nothing was cut or saved: try again, give fewer key points, "
        f"{OFFLINE_HINT}."
    )


def checked(answer: str, finish_reason: str, hashtags: Sequence[str], given: str) -> Written:
    """The model's post with the hashtags on its last line, or `LLMBadGateway` saying why it is refused."""
    text = answer.strip()
    if finish_reason == "length":
        raise _unusable("the model stopped at its length limit before the post was finished")
    if not text:
        raise _unusable("the model answered with an empty post")
    found = generator.problems(text, given=given)
    if found:
        raise _unusable("; ".join(found))
    notes: list[str] = []
    tags = () if any(w.startswith("#") for w in text.split()) else tuple(hashtags)
    if not tags and hashtags:
        notes.append("The model wrote its own hashtags; the suggestions were not added.")
    while tags and commentary_length(f"{text}\n\n{hashtag_line(tags)}") > COMMENTARY_LIMIT:
        tags = tags[:-1]  # the post itself fits: fewer hashtags, said so
        notes.append(f"Left out a hashtag to stay within LinkedIn's {COMMENTARY_LIMIT:,} characters.")
    return Written((f"{text}\n\n{hashtag_line(tags)}" if tags else text), "", tags, tuple(notes))


async def write(settings: Settings, structure: Structure, profile: Profile, request: Request) -> Written:
    """A post from the LLM server, checked like the offline generator's; an `AppError` (502/503/504)
    that says what to do when the server fails or its post cannot be used."""
    base_url, api_key, model = settings.llm_endpoint
    if not model:
        raise LLMUnavailable(
            "AUTOPILOT_LLM_BASE_URL is set but AUTOPILOT_LLM_MODEL is not: name the model to use, " + OFFLINE_HINT + "."
        )
    # Servers without keys (a local one) accept any bearer; the SDK insists on having one.
    client = openai.AsyncOpenAI(
        base_url=base_url,
        api_key=api_key or "unused",
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )
    try:
        async with client:
            completion = await client.chat.completions.create(
                model=model,
                messages=messages(structure, profile, request),
                max_tokens=MAX_TOKENS,
                temperature=TEMPERATURE,
                seed=request.seed,
            )
    except openai.APIError as exc:
        status = getattr(exc, "status_code", None)
        log.warning("llm call failed", server=_where(base_url), error=type(exc).__name__, status=status)
        raise _failure(exc, base_url, model) from exc
    if not completion.choices:
        raise _unusable("the server answered without a post")
    choice = completion.choices[0]
    given = " ".join([request.topic, *request.key_points, profile.about, profile.audience, *profile.voice_examples])
    written = checked(choice.message.content or "", choice.finish_reason, request.hashtags, given)
    return Written(written.text, completion.model or model, written.hashtags, written.notes)
