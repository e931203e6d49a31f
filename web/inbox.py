"""The inbox: the cases an actor may read, filtered, sorted and paged (a thin view over kia.cases.services)."""
from __future__ import annotations

from flask import render_template, request
from flask_login import login_required

from kia.http import db_session
from kia.cases.models import CaseState
from kia.cases.services import OPEN, CaseFilter, inbox_counts, inbox_units, is_overdue, list_cases
from kia.db import utcnow
from kia.errors import InvalidQuery
from kia.incidents.types import list_types
from web import labels, signed_in_actor, web_blueprint
from web.case_views import field_messages

PAGE_SIZE = 50
FILTER_KEYS = ("state", "type", "org_unit", "assigned", "serious", "overdue", "sort")


def _filter_from(args) -> CaseFilter:
    """The GET form as the service's filter. Without any parameter: the open cases, the most urgent first."""
    state = args.get("state", OPEN)
    sort = args.get("sort", "due")
    return CaseFilter(
        state=[state] if state else [], type=args.get("type") or None, org_unit=args.get("org_unit") or None,
        assigned="me" if args.get("assigned") else None, serious=True if args.get("serious") else None,
        overdue=True if args.get("overdue") else None, sort=sort if sort in labels.SORTS else "due",
        cursor=args.get("cursor") or None, limit=PAGE_SIZE)


@web_blueprint.get("/inbox")
@login_required
def inbox():
    actor = signed_in_actor()
    session, now = db_session(), utcnow()
    query = _filter_from(request.args)
    errors, cases, next_cursor, status = {}, [], None, 200
    try:
        cases, next_cursor = list_cases(session, actor, query, now)
    except InvalidQuery as error:
        errors, status = field_messages(error), 400
    chosen = {key: request.args.get(key, "") for key in FILTER_KEYS}
    chosen["state"] = request.args.get("state", OPEN)
    return render_template(
        "web/cases/inbox.html", cases=cases, next_cursor=next_cursor, errors=errors, chosen=chosen,
        counts=inbox_counts(session, actor, now), overdue={c.id for c in cases if is_overdue(c, now)},
        states=[OPEN, *CaseState], types=list_types(session, include_inactive=False),
        units=inbox_units(session, actor), sorts=labels.SORTS, paged=bool(query.cursor),
        # The state stays in the links even when empty: no state at all means the default, the open ones.
        page_args={key: value for key, value in chosen.items() if value or key == "state"},
    ), status
