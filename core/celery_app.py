"""Celery on Flask's pattern (beside the app factory): tasks run inside an app context and call the same
services. The beat schedule is built from the one registry of periodic work, ``core.jobs.PERIODIC``."""
from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask

from core.jobs import PERIODIC


def beat_schedule(interval: float | None) -> dict[str, dict[str, Any]]:
    """Celery beat's entries, one per registered periodic work; ``interval`` (BEAT_INTERVAL) overrides all."""
    schedule: dict[str, dict[str, Any]] = {}
    for entry in PERIODIC.values():
        every: Any = entry.every if entry.minute is None else crontab(minute=entry.minute)
        schedule[entry.beat_key] = {"task": entry.task, "schedule": interval or every}
    return schedule


def check_visibility_timeout(conf: dict[str, Any]) -> None:
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
    class FlaskTask(Task[Any, Any]):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    check_visibility_timeout(app.config["CELERY"])
    celery_app: Celery = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.beat_schedule = beat_schedule(app.config.get("BEAT_INTERVAL"))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    import core.tasks  # noqa: F401  (registers the kernel's shared tasks: run_job, dispatch_stale_jobs)

    return celery_app
