"""The Celery edge of the house: the Celery app on Flask's pattern, the beat schedule, every Celery task.

``create_app`` hands the app to ``celery_init_app`` after the domains are loaded (by the name in the
``TASKS`` setting, as it loads the domains), so that neither the kernel nor a domain imports Celery:
tasks run inside an app context and call the same services as pages and the API. The beat schedule is
built from the one registry of periodic work, ``core.jobs.PERIODIC``. ``celery -A tasks worker`` and
``celery -A tasks beat`` find the app in ``tasks/celery.py``, as Celery's own project layout does.

| module | tasks |
|---|---|
| ``tasks/jobs.py`` | ``ruamsue.run_job`` (any job of the outbox), ``ruamsue.dispatch_stale_jobs`` |
| ``tasks/orders.py`` | ``ruamsue.close_due_rounds``, ``ruamsue.remind_closing_rounds`` |
| ``tasks/quotes.py`` | ``ruamsue.announce_closed_requests`` |
| ``tasks/reports.py`` | ``ruamsue.build_due_summaries`` |
| ``tasks/notifications.py`` | ``ruamsue.send_due_notifications`` |
"""
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


def keep_our_logging(app: Flask) -> None:
    """A Celery worker would replace the root handlers with its own format; keep ours (core.logs) instead."""
    from celery.signals import setup_logging

    from core.logs import configure

    fmt, level = str(app.config["LOG_FORMAT"]), str(app.config.get("LOG_LEVEL") or "INFO")

    def keep(loglevel: Any = None, **_: Any) -> None:
        configure(fmt, loglevel if isinstance(loglevel, int) and loglevel else level)

    setup_logging.connect(keep, weak=False, dispatch_uid="ruamsue-logging")


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
    keep_our_logging(app)
    # Registers every shared task (on this app and any made later), each a call into a service.
    import tasks.jobs
    import tasks.notifications
    import tasks.orders
    import tasks.quotes
    import tasks.reports  # noqa: F401

    return celery_app
