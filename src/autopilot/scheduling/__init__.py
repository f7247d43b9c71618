"""Scheduling: weekly posting slots in the author's zone, the queue, publishing at the slot,
pre-flight checks, the calendar and its iCal feed."""
