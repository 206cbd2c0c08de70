"""What the quotes domain shows on the home page (registered with ``core.pages.home_item``)."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from quotes import permissions, services


def attention() -> str:
    """For the committee: requests taking quotes, and requests closed and waiting for a decision."""
    if not permissions.can_manage_rfqs(current_user):
        return ""
    waiting = [r for r in services.list_rfqs(current_user) if r.state in ("open", "closed")]
    if not waiting:
        return ""
    return render_template("quotes/_home_attention.html", rfqs=waiting)
