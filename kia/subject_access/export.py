"""The registerutdrag as data (the JSON the API and the web download give) and as a PDF (reportlab, as the lägesbild:
its built-in Helvetica is Latin-1, which holds å, ä and ö)."""
from __future__ import annotations

import io
from datetime import datetime, tzinfo
from typing import Callable
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from kia.errors import N_
from kia.subject_access.services import CaseRecord, Record, SubjectAccessReport


def _local(at: datetime | None, tz: tzinfo) -> str | None:
    return at.astimezone(tz).isoformat(timespec="minutes") if at else None


def report_data(report: SubjectAccessReport, tz: tzinfo) -> dict:
    return {
        "personal_number": report.personal_number, "made_at": _local(report.made_at, tz),
        "records": [{
            "incident": r.incident_number, "type": r.type, "org_unit": r.org_unit,
            "occurred_at": _local(r.occurred_at, tz), "reported_at": _local(r.reported_at, tz),
            "location": r.location, "description": r.description, "fields": r.fields, "person": r.person,
            "cases": [{"number": c.number, "type": c.type, "state": c.state, "created_at": _local(c.created_at, tz),
                       "closed_at": _local(c.closed_at, tz), "texts": c.texts, "actions": c.actions,
                       "comments": [{"at": _local(at, tz), "text": text} for at, text in c.comments]}
                      for c in r.cases],
        } for r in report.records],
    }


def report_pdf(report: SubjectAccessReport, tz: tzinfo, gettext: Callable[[str], str]) -> bytes:
    """`gettext` translates the headings; what the records say is printed as written."""
    _ = gettext
    styles = getSampleStyleSheet()

    def para(text: str, style: str = "BodyText") -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), styles[style])

    heading = _("Registerutdrag (GDPR art. 15)")
    story = [para(heading, "Title"),
             para(_("Personal number: %(number)s") % {"number": report.personal_number}),
             para(_("Made: %(at)s") % {"at": _local(report.made_at, tz)}),
             para(_("Review the extract for secrecy (OSL) before it is given out. Other persons named in the "
                    "events are left out.")),
             para(_("Records found: %(n)s") % {"n": len(report.records)})]
    for record in report.records:
        story += _record_flowables(record, tz, _, para)
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=heading, leftMargin=18 * mm, rightMargin=18 * mm).build(story)
    return buffer.getvalue()


# The PDF's labels, marked here (pybabel does not look inside f-strings) and translated where printed.
LABELS = {"type": N_("Type"), "unit": N_("Unit"), "occurred": N_("Occurred"), "reported": N_("Reported"),
          "role": N_("Role in the event"), "name": N_("Name"), "class": N_("Class"), "place": N_("Place"),
          "description": N_("Description"), "state": N_("State"), "opened": N_("Opened"), "closed": N_("Closed"),
          "action": N_("Action"), "comment": N_("Comment")}


def _line(_, *pairs) -> str:
    """"Label: value · Label: value", the labels translated."""
    return " · ".join(f"{_(LABELS[key])}: {value}" for key, value in pairs)


def _record_flowables(record: Record, tz: tzinfo, _, para) -> list:
    person = record.person
    lines = [para(_("Event %(number)s") % {"number": record.incident_number}, "Heading2"),
             para(_line(_, ("type", record.type), ("unit", record.org_unit))),
             para(_line(_, ("occurred", _local(record.occurred_at, tz)), ("reported", _local(record.reported_at, tz)))),
             para(_line(_, ("role", person["role"]), ("name", person["name"] or "–"),
                        ("class", person["class_name"] or "–")))]
    if record.location:
        lines.append(para(_line(_, ("place", record.location))))
    lines.append(para(_line(_, ("description", record.description))))
    lines += [para(f"{key}: {value}") for key, value in record.fields.items()]
    for case in record.cases:
        lines += _case_flowables(case, tz, _, para)
    return [*lines, Spacer(1, 4 * mm)]


def _case_flowables(case: CaseRecord, tz: tzinfo, _, para) -> list:
    dates = [("state", case.state), ("opened", _local(case.created_at, tz))]
    if case.closed_at:
        dates.append(("closed", _local(case.closed_at, tz)))
    lines = [para(_("Case %(number)s") % {"number": case.number}, "Heading3"), para(_line(_, *dates))]
    lines += [para(f"{key}: {text}") for key, text in case.texts.items()]
    lines += [para(_line(_, ("action", what))) for what in case.actions]
    lines += [para(f"{_(LABELS['comment'])} {_local(at, tz)}: {text}") for at, text in case.comments]
    return lines
