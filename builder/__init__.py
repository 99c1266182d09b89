"""A static-site builder for a Vietnamese machine-learning blog with computed figures."""

__version__ = "0.1.0"
