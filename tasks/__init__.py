"""Celery on Flask's pattern: tasks run inside an app context and call the same services."""
from __future__ import annotations

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.beat_schedule = {
        "close-due-rounds": {"task": "ruamsue.close_due_rounds", "schedule": 60.0},
        "dispatch-stale-jobs": {"task": "ruamsue.dispatch_stale_jobs", "schedule": 60.0},
        # Hourly, so each network's own "early on the 1st" (00:05 local) is caught in its time zone.
        "build-due-summaries": {"task": "ruamsue.build_due_summaries", "schedule": crontab(minute=5)},
    }
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    import tasks.jobs  # noqa: F401  (registers the shared tasks)

    return celery_app
