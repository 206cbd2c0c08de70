"""The test harness is one module: the live server, the worker and the tests must share one queue."""
from __future__ import annotations

import pytest

import tests.conftest as imported
from tests.browser.live import harness


def test_the_fixtures_module_is_the_imported_one(request: pytest.FixtureRequest) -> None:
    # pytest loads tests/conftest.py as "conftest"; test modules import it as "tests.conftest". When these
    # were two modules, each drew its own run id: the browser tests' live server sent jobs to a queue
    # no worker listened on.
    definitions = request._fixturemanager.getfixturedefs("celery_worker", request.node)
    assert definitions, "celery_worker fixture not found"
    # By its globals, not its name: every conftest.py is loaded as "conftest", the last one keeps the name.
    assert definitions[-1].func.__globals__ is vars(imported)
    assert harness() is imported
    assert harness().QUEUE == imported.QUEUE
