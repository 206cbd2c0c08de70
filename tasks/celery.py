"""Where ``celery -A tasks worker`` and ``celery -A tasks beat`` find the app (Celery looks for
``<package>.celery``): the Flask app built by the factory, whose ``celery_init_app`` made ``app``."""
from __future__ import annotations

from celery import Celery

from core import create_app

app: Celery = create_app().extensions["celery"]
