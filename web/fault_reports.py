"""Felanmälan on the case page: the section's contents, and sending a fault report (kia.property.services)."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import login_required
from kia.db import utcnow
from kia.errors import N_
from kia.http import db_session
from kia.property.services import (
    FaultReportInput, may_report_fault, owner_for_case, reports_of_case, send_fault_report,
)
from web import signed_in_actor, web_blueprint

URGENCIES = {"low": N_("Low"), "normal": N_("Normal"), "urgent": N_("Urgent")}
STATUSES = {"queued": N_("Waiting to be sent"), "sent": N_("Received by the owner"),
            "failed": N_("Could not be sent: an administrator has been told"),
            "closed": N_("Done (closed by the owner)")}


def fault_section(session, case, may_handle: bool) -> dict:
    """What the case page shows of fault reports (the case read through the access rules): nothing for a type
    that does not concern the building."""
    if not may_report_fault(case):
        return {"offered": False}
    return {"offered": True, "reports": reports_of_case(session, case),
            "owner": owner_for_case(session, case) if may_handle else None, "urgencies": URGENCIES,
            "statuses": STATUSES}


@web_blueprint.post("/cases/<id:case_id>/fault-reports")
@login_required
def case_fault_report(case_id: int):
    from web.handling import attempt

    data = FaultReportInput(place=request.form.get("place", ""), description=request.form.get("description", ""),
                            urgency=request.form.get("urgency", "normal"))
    return attempt(case_id, "fault_report", "fault-reports-heading",
                   lambda: send_fault_report(db_session(), signed_in_actor(), case_id, data, utcnow()),
                   _("The fault report is on its way to the property owner."))
