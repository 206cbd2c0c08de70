"""Which errors of a send are delivery failures: the channel's own (here SMTP refusing the connection) are
recorded on the delivery and retried or given up; a bug (a channel raising ``TypeError``, a setting that is
not a number) is no delivery failure: it is logged with its traceback, counted, raised, and the message
still goes out once the bug is fixed."""
from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from prometheus_client import REGISTRY

from tests.notify_support import smtp_server

# 10:00 in Bangkok: outside the default quiet hours.
START = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def _sample(name: str, channel: str) -> float:
    return REGISTRY.get_sample_value(name, {"channel": channel}) or 0.0


def _email_delivery(db_session: Any, make_network: Callable[..., Any], make_user: Callable[..., Any]) -> Any:
    """An e-mail to a committee member (default settings: e-mail on), due since a minute before START."""
    from notifications.models import Delivery, Notification

    network = make_network()
    user = make_user(network, "committee")
    notification = Notification(network_id=network.id, user_id=user.id, event_key="payment_recorded:1",
                                kind="payment_recorded", title="บันทึกการชำระเงินแล้ว", body="1,250.50 บาท",
                                link="/invoices/1")
    db_session.add(notification)
    db_session.flush()
    delivery = Delivery(notification_id=notification.id, network_id=network.id, user_id=user.id,
                        event_key=notification.event_key, channel="email", state="pending", attempts=0,
                        next_attempt_at=START - timedelta(minutes=1))
    db_session.add(delivery)
    db_session.commit()
    return delivery


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens on it once the socket is closed


def _broken_channel(*args: object, **kwargs: object) -> None:
    raise TypeError("send_email() got an unexpected keyword argument 'reply_to'")


@pytest.mark.parametrize("bug", ["channel raises TypeError", "MAIL_PORT is not a number"])
def test_a_bug_is_no_delivery_failure(bug: str, app: Any, db_session: Any, make_network: Callable[..., Any],
                                      make_user: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    from notifications import channels
    from notifications.sending import send_due, send_event

    delivery = _email_delivery(db_session, make_network, make_user)
    errors = _sample("ruamsue_notification_send_errors_total", "email")
    failed = _sample("ruamsue_notifications_failed_total", "email")
    with smtp_server() as box:
        monkeypatch.setitem(app.config, "MAIL_SERVER", box.host)
        monkeypatch.setitem(app.config, "MAIL_PORT", box.port)
        with monkeypatch.context() as broken:
            if bug == "channel raises TypeError":
                broken.setattr(channels, "send_email", _broken_channel)
                expected: type[Exception] = TypeError
            else:
                broken.setitem(app.config, "MAIL_PORT", "twenty-five")
                expected = ValueError
            with time_machine.travel(START, tick=False), caplog.at_level(logging.ERROR, "notifications.sending"):
                with pytest.raises(expected):
                    send_event("payment_recorded:1")
        db_session.refresh(delivery)
        # Not recorded as a failure (no last error, not failed, not put back for a retry with back-off).
        assert (delivery.state, delivery.attempts, delivery.last_error) == ("sending", 1, None)
        assert _sample("ruamsue_notification_send_errors_total", "email") == errors + 1
        assert _sample("ruamsue_notifications_failed_total", "email") == failed
        logged = [r for r in caplog.records if r.name == "notifications.sending" and r.levelno == logging.ERROR]
        assert len(logged) == 1 and logged[0].exc_info is not None
        assert f"delivery {delivery.id} over email crashed" in logged[0].getMessage()
        assert box.received() == []

        # The bug fixed, the sweep offers the claimed delivery again once its sender timed out: it goes out.
        with time_machine.travel(START + timedelta(seconds=app.config.get("NOTIFY_SENDING_TIMEOUT", 600) + 1),
                                 tick=False):
            assert send_due()["sent"] == 1
        db_session.refresh(delivery)
        assert (delivery.state, delivery.attempts, delivery.last_error) == ("sent", 2, None)
        assert len(box.received()) == 1


def test_a_refused_connection_is_a_delivery_failure(app: Any, db_session: Any, make_network: Callable[..., Any],
                                                    make_user: Callable[..., Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from notifications.sending import send_event

    delivery = _email_delivery(db_session, make_network, make_user)
    errors = _sample("ruamsue_notification_send_errors_total", "email")
    failed = _sample("ruamsue_notifications_failed_total", "email")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", _closed_port())
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 2)
    with time_machine.travel(START, tick=False):
        assert send_event("payment_recorded:1")["retrying"] == 1
    db_session.refresh(delivery)
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert (delivery.last_error or "").startswith("Transient: SMTP: ConnectionRefusedError")
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        assert send_event("payment_recorded:1")["failed"] == 1
    db_session.refresh(delivery)
    assert (delivery.state, delivery.attempts) == ("failed", 2)
    assert _sample("ruamsue_notifications_failed_total", "email") == failed + 1
    assert _sample("ruamsue_notification_send_errors_total", "email") == errors
