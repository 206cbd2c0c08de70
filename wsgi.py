"""Entry point: ``gunicorn wsgi:app``, ``celery -A wsgi.celery worker``, ``flask --app wsgi ...``."""
from core import create_app

app = create_app()
celery = app.extensions["celery"]
