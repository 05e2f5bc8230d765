"""gitreg: a model registry and dataset catalog kept in a git repository."""

__version__ = "0.1.0"
