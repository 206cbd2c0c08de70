"""Entry point: ``gunicorn wsgi:app``, ``flask --app wsgi ...``. Workers and beat: ``celery -A tasks worker``
and ``celery -A tasks beat`` (tasks/celery.py); ``celery`` here is the same app's Celery, for ``-A wsgi.celery``."""
from core import create_app

app = create_app()
celery = app.extensions["celery"]
