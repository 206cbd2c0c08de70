"""Celery on Flask's pattern: tasks run inside an app context and call the same services."""
from __future__ import annotations

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask


def check_visibility_timeout(conf: dict) -> None:
    """Refuse to start when Redis could hand a task still running to a second worker.

    With ``acks_late`` an unacknowledged message goes back to the queue after the broker's
    ``visibility_timeout``; if a task may run longer than that, the same job runs twice at once.
    """
    limit = conf.get("task_time_limit")
    visibility = (conf.get("broker_transport_options") or {}).get("visibility_timeout", 3600)
    if not limit or float(visibility) <= float(limit):
        raise RuntimeError(
            f"CELERY_VISIBILITY_TIMEOUT ({visibility} s) must be longer than CELERY_TASK_TIME_LIMIT "
            f"({limit} s): otherwise a long job is handed to a second worker while it still runs.")


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    check_visibility_timeout(app.config["CELERY"])
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    interval = app.config.get("BEAT_INTERVAL")
    celery_app.conf.beat_schedule = {
        "close-due-rounds": {"task": "ruamsue.close_due_rounds", "schedule": interval or 60.0},
        "dispatch-stale-jobs": {"task": "ruamsue.dispatch_stale_jobs", "schedule": interval or 60.0},
        # Hourly, so each network's own "early on the 1st" (00:05 local) is caught in its time zone.
        "build-due-summaries": {"task": "ruamsue.build_due_summaries",
                                "schedule": interval or crontab(minute=5)},
    }
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    import tasks.jobs  # noqa: F401  (registers the shared tasks)

    return celery_app
