"""Leads: people who showed buying intent, scored (intent, recency, fit), and a deal pipeline."""
