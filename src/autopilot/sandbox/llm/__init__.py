"""An OpenAI-compatible chat-completions server for tests and demos. It imports nothing of the product.

    app = create_app(LLMSandboxConfig())                     # mount anywhere, e.g. /sandbox/llm
    python -m autopilot.sandbox.llm --port 8020               # or on its own

The API (what the official `openai` SDK and most OpenAI-compatible servers speak):
  GET  /v1/models                    {"object": "list", "data": [{"id", "object": "model", "created", "owned_by"}]}
  POST /v1/chat/completions          {"model", "messages": [{"role", "content"}], "max_tokens"?,
                                     "max_completion_tokens"?, "temperature"?, "seed"?, …} →
                                     {"id": "chatcmpl-…", "object": "chat.completion", "created", "model",
                                      "choices": [{"index": 0, "message": {"role": "assistant", "content",
                                      "refusal": null}, "logprobs": null, "finish_reason": "stop" | "length"}],
                                      "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}
  Both need `Authorization: Bearer <key>` with a key of the config: otherwise 401 in OpenAI's error
  shape {"error": {"message", "type", "param", "code"}} (code "invalid_api_key"). An unknown model
  is 404 "model_not_found"; a malformed body 400 "invalid_request_error"; streaming is refused (400).

The answer is deterministic, built from the prompt: the last user message's "Topic:" line (else its
first line), its bullet lines ("- …", at most 8) as "→ …" lines, and a signature line naming the model
and a digest of all the messages. `max_tokens` (≈ 4 characters a token) cuts it with finish_reason
"length", as real servers do.

Control API (JSON, no auth):
  POST   /_sandbox/faults {"rules": [{"fault": "rate_limit" | "error_500" | "error_503" | "slow",
         "times": null | n, "retry_after_s": 20, "delay_s": 30}]}   (in order; "slow" answers after delay_s)
  DELETE /_sandbox/faults
  POST   /_sandbox/reply {"content": "…" | null, "finish_reason": "stop"}   a fixed answer (null: back to the default)
  GET    /_sandbox/requests    {"requests": [the chat-completion bodies received, in order]}
  GET    /_sandbox/stats       {"requests": {"<endpoint> <status>": n}}
  POST   /_sandbox/reset       faults, fixed reply, requests and stats cleared
"""

from autopilot.sandbox.llm.app import create_app, serve
from autopilot.sandbox.llm.config import LLMSandboxConfig

__all__ = ["LLMSandboxConfig", "create_app", "serve"]
