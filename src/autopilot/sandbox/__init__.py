"""Protocol emulators (LinkedIn, Meta, push, LLM): real HTTP servers that follow the documented
contracts, for demos and tests. They import nothing of the product: they are the outside world."""
