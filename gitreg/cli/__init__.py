"""The ``gitreg`` command line: option parsing and rendering on top of the core."""
