"""The audit trail as sentences a committee reads aloud at its meeting: who did what, with names and baht.

The kernel keeps the registry; each domain registers the sentences of its own actions (``describer``),
so core knows no domain. A describer takes the page's events of its action (the API's shape: ``action,
subject_id, before, after, ...``) and returns a sentence per event id, looking names up in one query
per kind. An action no domain describes still reads as a sentence (``fallback``), never as a code.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from core import format as fmt
from core.db import db

Event = Mapping[str, Any]
Describer = Callable[[list[Event]], dict[int, str]]

DESCRIBERS: dict[str, Describer] = {}


def _(text: str, **values: Any) -> str:
    return str(gettext(text, **values))


def describer(*actions: str) -> Callable[[Describer], Describer]:
    """Register ``fn`` as the describer of ``actions`` (e.g. ``"invoice.payment"``)."""
    def register(fn: Describer) -> Describer:
        for action in actions:
            DESCRIBERS[action] = fn
        return fn

    return register


def fallback(event: Event) -> str:
    return _("เปลี่ยนแปลงข้อมูลในระบบ (รายการที่ %(id)s)", id=event.get("subject_id", ""))


def describe(events: Iterable[Event]) -> dict[int, str]:
    """A Thai (or English) sentence per event id, without the doer's name (the page shows it first)."""
    by_action: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_action[event["action"]].append(event)
    out: dict[int, str] = {}
    for action, group in by_action.items():
        fn = DESCRIBERS.get(action)
        found: dict[int, str] = {}
        if fn is not None:
            try:
                found = fn(group)
            except (KeyError, TypeError, ValueError, AttributeError):
                found = {}  # an old event of another shape still reads as a sentence
        for event in group:
            out[event["id"]] = found.get(event["id"]) or fallback(event)
    return out


def ids(events: Iterable[Event], key: str, where: str = "after") -> set[int]:
    """The ids named by ``key`` in the events' ``before``/``after`` values (for a batch name lookup)."""
    found = set()
    for event in events:
        value = (event.get(where) or {}).get(key) if isinstance(event.get(where), dict) else None
        if value is not None:
            try:
                found.add(int(value))
            except (TypeError, ValueError):
                continue
    return found


def subject_ids(events: Iterable[Event]) -> set[int]:
    out = set()
    for event in events:
        try:
            out.add(int(event["subject_id"]))
        except (TypeError, ValueError):
            continue
    return out


SUBJECTS: dict[str, Any] = {}


def subject_label(subject: str, label: Any) -> None:
    """The name of a kind of subject (``"invoice"``) for the audit page's filter."""
    SUBJECTS[subject] = label


def quoted(name: Any) -> str:
    return f"«{name}»" if name not in (None, "") else "«–»"


def by_id(model: Any, wanted: set[int]) -> dict[int, Any]:
    """The rows of ``model`` a page of events names, in one query."""
    if not wanted:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(wanted)))}


def when(value: Any) -> str:
    """A moment recorded in an event (ISO text) as the network reads it; anything else as it was."""
    try:
        return fmt.moment(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)
