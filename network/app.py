"""Wires the network domain into the app: API, pages, CLI."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from core.api import get_api
from core.web import csrf

network_cli = AppGroup("network", help="Manage networks.")


@network_cli.command("create")
@click.argument("name")
@click.option("--admin-email", required=True)
@click.option("--admin-password", required=True)
@click.option("--admin-name", default="Network admin")
@click.option("--timezone", default="Asia/Bangkok")
def create_network_command(name: str, admin_email: str, admin_password: str, admin_name: str, timezone: str) -> None:
    """Create a network and its first admin (the only thing done outside the API)."""
    from core.errors import DomainError
    from network.services import create_network

    try:
        network = create_network(name, admin_email, admin_password, admin_name, timezone)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"network {network.id} created: {network.name}; admin {admin_email}")


def init_app(app: Flask) -> None:
    import network.audit_text  # noqa: F401  (the audit trail's sentences of this domain)
    import network.settings_views  # noqa: F401  (the network settings page: a route on the same blueprint)
    from network import auth
    from network.api import blp
    from network.audit_api import blp as audit_blp
    from network.import_views import register_import_pages
    from network.views import bp, register_pages

    auth.init_app()
    from network import imports

    imports.init_app()
    get_api(app).register_blueprint(blp)
    get_api(app).register_blueprint(audit_blp)
    csrf.exempt(blp)
    csrf.exempt(audit_blp)
    app.register_blueprint(bp)
    register_pages()
    register_import_pages()
    from network import account_views

    app.register_blueprint(account_views.bp)
    account_views.register_pages()
    from core.pwa import keep_offline

    keep_offline(app, "network_views.home")
    app.cli.add_command(network_cli)
