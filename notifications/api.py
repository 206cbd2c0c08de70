"""JSON API of notifications: the caller's own list, mark read, settings. Parse -> service -> dump."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from core.auth import api_actor
from notifications import line_link, services
from notifications.schemas import LineLinkSchema, NotificationListArgs, NotificationSchema, SettingsSchema

blp = Blueprint("notifications_api", __name__, url_prefix="/api/v1", description="The caller's notifications")


@blp.route("/notifications")
@blp.arguments(NotificationListArgs, location="query")
@blp.response(200, NotificationSchema(many=True))
def list_notifications(args):  # type: ignore[no-untyped-def]
    """The caller's notifications, newest first."""
    return services.list_notifications(api_actor(), args["limit"], args["unread"])


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NotificationSchema)
def mark_read(notification_id: int):  # type: ignore[no-untyped-def]
    """Mark one of the caller's notifications read (404 for anyone else's)."""
    return services.mark_read(api_actor(), notification_id)


@blp.route("/me/notification-settings")
class Settings(MethodView):
    @blp.response(200, SettingsSchema)
    def get(self):  # type: ignore[no-untyped-def]
        """How the caller hears: e-mail, LINE, quiet hours (network time zone)."""
        return services.get_settings(api_actor())

    @blp.arguments(SettingsSchema)
    @blp.response(200, SettingsSchema)
    def put(self, data):  # type: ignore[no-untyped-def]
        """Replace the caller's settings; LINE needs line_user_id."""
        return services.update_settings(api_actor(), data)


@blp.route("/me/line-link", methods=["POST"])
@blp.response(201, LineLinkSchema)
def line_link_code():  # type: ignore[no-untyped-def]
    """A one-time code (15 minutes) that connects the caller's LINE when sent to the network's LINE account."""
    made = line_link.new_code(api_actor())
    return {"code": made.code, "expires_at": made.expires_at, **line_link.friend_links(made.code)}
