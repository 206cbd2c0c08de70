"""Wires the demo into the app: the ``flask demo seed`` and ``flask demo serve`` commands."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from demo.seed import demo_cli

    app.cli.add_command(demo_cli)
