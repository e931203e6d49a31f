"""The user's in-app notifications: list, mark read, and the unread count the header shows."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from api.notifications import present_notification
from kia.http import db_session
from kia.db import as_id, utcnow
from kia.errors import NotFound
from notifications.inbox import list_inbox, mark_all_read, mark_read
from web import signed_in_actor, web_blueprint


@web_blueprint.app_context_processor
def _unread():
    def unread_notifications() -> int:
        """For the header, counted as the signed-in user was loaded: 0 for a visitor who is not signed in."""
        return current_user.unread_notifications if current_user.is_authenticated else 0
    return {"unread_notifications": unread_notifications}


@web_blueprint.get("/notifications")
@login_required
def notifications():
    cursor = request.args.get("cursor", type=as_id)   # anything but an id: the first page
    page = list_inbox(db_session(), signed_in_actor(), cursor=cursor)
    return render_template("web/cases/notifications.html", items=[present_notification(n) for n in page.items],
                           next_cursor=page.next_cursor, unread=page.unread_count, paged=bool(cursor))


@web_blueprint.post("/notifications/<id:notification_id>/read")
@login_required
def notification_read(notification_id: int):
    try:
        mark_read(db_session(), signed_in_actor(), notification_id, utcnow())
    except NotFound:
        abort(404)
    return redirect(url_for("web.notifications"))


@web_blueprint.post("/notifications/read")
@login_required
def notifications_read_all():
    mark_all_read(db_session(), signed_in_actor(), utcnow())
    return redirect(url_for("web.notifications"))
