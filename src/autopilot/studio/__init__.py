"""Studio: drafts written from proven post structures (offline, deterministic) or by any
OpenAI-compatible LLM, in the writer's voice, with hashtag suggestions and a live LinkedIn preview."""
