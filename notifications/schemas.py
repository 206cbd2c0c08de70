"""marshmallow schemas of the notifications API."""
from __future__ import annotations

import re
from datetime import time
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from notifications.models import DEFAULT_QUIET_FROM, DEFAULT_QUIET_UNTIL, KINDS

HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ClockTime(fields.Field[time]):
    """A wall-clock time in the network's time zone, "HH:MM" (24-hour)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).update({"type": "string", "pattern": HH_MM.pattern,
                                                  "example": "21:00"})
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{value.hour:02d}:{value.minute:02d}"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> time:
        if not isinstance(value, str) or not HH_MM.match(value):
            raise ValidationError('A time of day such as "21:00".')
        hour, minute = value.split(":")
        return time(int(hour), int(minute))


class StrictBool(fields.Boolean):
    truthy = {True}
    falsy = {False}


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(KINDS)})
    title = fields.String()
    body = fields.String()
    link = fields.String(metadata={"description": "The page this is about (a path of this site)"})
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationListArgs(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    unread = StrictBool(load_default=False, truthy={True, "true", "1"}, falsy={False, "false", "0"})


class SettingsSchema(Schema):
    email = StrictBool(required=True)
    line = StrictBool(required=True)
    line_user_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64),
                                 metadata={"example": "U4af4980629" + "0" * 22})
    quiet_from = ClockTime(load_default=DEFAULT_QUIET_FROM)
    quiet_until = ClockTime(load_default=DEFAULT_QUIET_UNTIL)
    line_blocked_at = fields.DateTime(dump_only=True, allow_none=True,
                                      metadata={"description": "When LINE said the user blocked the account"})


class LineLinkSchema(Schema):
    code = fields.String(metadata={"description": "Send this to the network's LINE account (8 digits, one use)",
                                   "example": "40931275"})
    expires_at = fields.DateTime(metadata={"description": "15 minutes after it was made"})
    add_friend_url = fields.String(metadata={"description": "Opens the LINE account as a friend (when configured)"})
    send_code_url = fields.String(metadata={"description": "Opens its chat in LINE with the code typed in"})
