"""The lägesbild as a printable PDF (reportlab: pure Python, no system libraries)."""
from __future__ import annotations

import io
from typing import Callable

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kia.stats.services import Count
from kia.stats.situation import TREND_COLOURS, SituationPicture

TABLE_STYLE = TableStyle([
    ("FONTSIZE", (0, 0), (-1, -1), 8),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
    ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey),
])


def _n(count: Count) -> str:
    return ".." if count.suppressed else str(count.value)


def situation_pdf(picture: SituationPicture, gettext: Callable[[str], str],
                  label: Callable[[str], str] = str) -> bytes:
    """The same sections as the page: trend (chart and table), largest changes, serious events and
    overdue obligations, affected persons by gender. `gettext` translates the headings, `label` the
    codes of genders and person categories."""
    _ = gettext
    styles = getSampleStyleSheet()
    t = picture.tertial
    trend = picture.trend
    heading = _("Situation picture")   # not inside an f-string, where pybabel's extraction does not look
    story = [
        Paragraph(f"{heading}: {picture.org_unit.name}, {t.label()}", styles["Title"]),
        Paragraph(_("Counts from 1 to %(n)s are hidden (..), as are those that would reveal them.")
                  % {"n": picture.threshold - 1}, styles["Normal"]),
        Spacer(1, 4 * mm),
        Paragraph(_("Events by type, last six tertials"), styles["Heading2"]),
        _chart(picture),
        Table([[_("Type"), *[x.label() for x in trend.tertials]]]
              + [[picture.type_names.get(code, code), *map(_n, trend.counts[code])] for code in trend.types]
              + [[_("All events"), *map(_n, trend.totals)]], style=TABLE_STYLE, repeatRows=1),
        Paragraph(_("Largest changes from the same tertial last year"), styles["Heading2"]),
        Table([[_("Unit"), t.label(), f"T{t.number} {t.year - 1}", _("Change")]]
              + [[r.key["unit"], _n(r.count), _n(r.compared["last_year"]), f"{r.change('last_year'):+d}"]
                 for r in picture.changes], style=TABLE_STYLE),
        Paragraph(_("Serious events and deadlines"), styles["Heading2"]),
        Table([[_("Serious events (AML 3:3a) in the tertial"), _n(picture.serious)],
               [_("Obligations overdue now"), _n(picture.overdue)]], style=TABLE_STYLE),
        Paragraph(_("Affected persons by gender"), styles["Heading2"]),
        Table([[_("Gender"), _("Category"), _("Persons")]]
              + [[label(r.key["gender"]), label(r.key["person_category"]), _n(r.count)]
                 for r in picture.by_gender.rows]
              + [[_("All"), "", _n(picture.by_gender.total.count)]], style=TABLE_STYLE),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=f"{heading} {picture.org_unit.code} {t.label()}",
                      leftMargin=18 * mm, rightMargin=18 * mm).build(story)
    return buffer.getvalue()


def _chart(picture: SituationPicture) -> Drawing:
    """The most frequent types as lines; hidden counts are gaps (None)."""
    trend = picture.trend
    shown = trend.types[:len(TREND_COLOURS)]
    drawing = Drawing(170 * mm, 60 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 10 * mm, 10 * mm, 110 * mm, 45 * mm
    chart.data = [[None if c.suppressed else c.value for c in trend.counts[code]] for code in shown] or [[0]]
    chart.categoryAxis.categoryNames = [x.label() for x in trend.tertials]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    for index, colour in enumerate(TREND_COLOURS[:len(shown)]):
        chart.lines[index].strokeColor = colors.HexColor(colour)
        chart.lines[index].strokeWidth = 1.5
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y, legend.fontSize = 125 * mm, 52 * mm, 7
    legend.colorNamePairs = [(colors.HexColor(colour), picture.type_names.get(code, code))
                             for colour, code in zip(TREND_COLOURS, shown)]
    drawing.add(legend)
    return drawing
