"""Wires the households domain into the app: API, pages, audit sentences."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    import households.models  # noqa: F401  (the tables, for the metadata)
