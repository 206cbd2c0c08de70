"""Entry point: ``gunicorn wsgi:app``, ``flask --app wsgi ...``. Workers and beat: ``celery -A tasks worker``
and ``celery -A tasks beat`` (tasks/celery.py); ``celery`` here is the same app's Celery, for ``-A wsgi.celery``."""
import gc

from core import create_app

app = create_app()
# What start-up built (modules, routes, templates, the app) lives as long as the process: out of the
# collector's generations, so a request's collections stop walking it (the month in progress: bench summary).
gc.freeze()
celery = app.extensions["celery"]
