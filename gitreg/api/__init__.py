"""The HTTP API: a FastAPI application that serves the registry from a git ref.

``gitreg.api.app.create_app`` builds the application. The modules ``keys`` and
``source`` do not import FastAPI, so the command line can manage API keys without
the ``api`` extra installed.
"""
