"""TechLead AutoPilot: publish on LinkedIn and answer conversations, on autopilot."""

__version__ = "0.1.0"
