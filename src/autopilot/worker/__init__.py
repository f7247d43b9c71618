"""The durable job engine: a jobs ledger in the database, dispatchers, executors, retry policy."""
