"""ClassPulse: real-time and offline data warehouse for online classrooms."""

__version__ = "0.1.0"
