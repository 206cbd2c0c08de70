"""Starting the app says nothing it should not: no warnings (apispec's schema-name collisions were one)."""
from __future__ import annotations

import warnings
from pathlib import Path


def test_create_app_starts_without_a_warning(tmp_path: Path) -> None:
    from core import create_app

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'startup.sqlite3'}", "TESTING": True})
        with app.test_request_context():
            app.extensions["ruamsue_api"].spec.to_dict()
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
