"""The read log's review (auditors, and admins) and the registerutdrag (admins and data protection officers): thin
views over kia.cases.read_log and kia.subject_access."""
from __future__ import annotations

import json

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from kia.access import may_review_access_log, may_search_data_subject
from kia.cases.read_log import AccessLogFilter, list_access_log
from kia.db import MAX_ID, as_id
from kia.errors import ValidationFailed
from kia.http import db_session, state
from kia.subject_access.export import report_data, report_pdf
from kia.subject_access.services import subject_access_report
from web import signed_in_actor, web_blueprint
from web.admin import admin_page
from web.labels import READ_ACTIONS

@web_blueprint.app_context_processor
def _privacy_links():
    def may_review_read_log() -> bool:
        return current_user.is_authenticated and may_review_access_log(signed_in_actor())

    def may_answer_subject_access() -> bool:
        return current_user.is_authenticated and may_search_data_subject(signed_in_actor())

    return {"may_review_read_log": may_review_read_log, "may_answer_subject_access": may_answer_subject_access}


@web_blueprint.get("/admin/access-log")
@admin_page(may=may_review_access_log)
def admin_access_log():
    query = AccessLogFilter(case_id=request.args.get("case_id", type=as_id),
                            user_id=request.args.get("user_id", type=as_id),
                            cursor=request.args.get("cursor", type=as_id),
                            limit=min(max(request.args.get("limit", 100, type=int), 1), 500))
    rows, next_cursor = list_access_log(db_session(), signed_in_actor(), query)
    return render_template("web/admin/access_log.html", rows=rows, next_cursor=next_cursor, query=query,
                           max_id=MAX_ID, actions=READ_ACTIONS)


@web_blueprint.get("/admin/subject-access")
@admin_page(may=may_search_data_subject)
def subject_access():
    return render_template("web/admin/subject_access.html", errors={}, form={})


@web_blueprint.post("/admin/subject-access")
@admin_page(may=may_search_data_subject)
def subject_access_download():
    settings = state().settings
    try:
        report = subject_access_report(db_session(), signed_in_actor(), request.form.get("personal_number", ""),
                                       settings.secret_key)
    except ValidationFailed as error:
        errors = {path: [m.render(_) for m in msgs] for path, msgs in error.errors.items()}
        # The number typed is not shown again: the page stays out of the browser's history with it.
        return render_template("web/admin/subject_access.html", errors=errors, form={}), 422
    if request.form.get("format") == "pdf":
        return Response(report_pdf(report, settings.timezone, _), mimetype="application/pdf",
                        headers={"Content-Disposition": 'attachment; filename="registerutdrag.pdf"'})
    return Response(json.dumps(report_data(report, settings.timezone), ensure_ascii=False, indent=2),
                    mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="registerutdrag.json"'})
