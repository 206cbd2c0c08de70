"""Wires the market domain into the app."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    import market.models  # noqa: F401
