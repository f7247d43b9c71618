"""Jobs as people see them: the API, the failures page and health (the engine is `worker`)."""
