"""citygrowth: see, steer and account for a district's growth."""

__version__ = "0.1.0"
