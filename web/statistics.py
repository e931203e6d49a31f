"""The lägesbild page and its printable PDF: thin views over kia.stats.situation."""
from __future__ import annotations

from datetime import datetime

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select

from kia.access import Actor
from kia.access.statistics import statistics_roots
from kia.http import db_session, state
from kia.errors import NotFound
from kia.orgs.models import OrgUnit
from kia.stats.pdf import situation_pdf
from kia.stats.periods import Tertial
from kia.stats.situation import TREND_COLOURS, SituationPicture, situation_picture
from web import labels, signed_in_actor, web_blueprint


def _picture() -> SituationPicture:
    actor = signed_in_actor()
    settings = state().settings
    today = datetime.now(settings.timezone).date()
    try:
        year = int(request.args.get("year", today.year))
        number = int(request.args.get("tertial", Tertial.containing(today).number))
        tertial = Tertial(year, number)
    except ValueError:
        abort(400)
    if not 2000 <= tertial.year <= 2100:
        abort(400)
    code = request.args.get("org_unit") or _default_unit(actor)
    if code is None:
        abort(404)
    try:
        return situation_picture(db_session(), actor, code, tertial, settings.timezone,
                                 settings.stats_suppression_threshold)
    except NotFound:
        abort(404)


def _default_unit(actor: Actor) -> str | None:
    roots = statistics_roots(actor)
    if not roots:
        return None
    return db_session().scalar(select(OrgUnit.code).where(OrgUnit.path == roots[0]))


@web_blueprint.app_context_processor
def _navigation():
    def may_see_situation() -> bool:
        return current_user.is_authenticated and bool(statistics_roots(signed_in_actor()))
    return {"may_see_situation": may_see_situation}


@web_blueprint.get("/lagesbild")
@login_required
def situation():
    picture = _picture()
    return render_template("web/lagesbild.html", picture=picture, chart=trend_chart(picture),
                           colours=TREND_COLOURS, person_label=_person_label)


def _person_label(code: str) -> str:
    text = labels.GENDERS.get(code) or labels.PERSON_CATEGORIES.get(code)
    return _(text) if text else code


@web_blueprint.get("/lagesbild.pdf")
@login_required
def situation_printable():
    picture = _picture()
    filename = f"lagesbild-{picture.org_unit.code}-T{picture.tertial.number}-{picture.tertial.year}.pdf"
    return Response(situation_pdf(picture, _, _person_label), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


def trend_chart(picture: SituationPicture, width: int = 640, height: int = 260) -> Markup:
    """An SVG line chart of the most frequent types over the tertials; hidden counts leave a gap.
    The same figures are in the table beside it, which screen readers are pointed to."""
    trend = picture.trend
    left, right, top, bottom = 44, 40, 12, 36  # room for the last tertial's label
    shown = trend.types[:len(TREND_COLOURS)]
    peak = max([c.value or 0 for code in shown for c in trend.counts[code]] + [1])
    step = (width - left - right) / max(len(trend.tertials) - 1, 1)

    def x(i: int) -> float:
        return left + i * step

    def y(value: int) -> float:
        return top + (height - top - bottom) * (1 - value / peak)

    # Translated outside the f-strings: pybabel's extraction does not look inside one, so a message there
    # never reached the catalogue and the Swedish page read it in English.
    title, description = _("Events by type, last six tertials"), _("The same figures are in the table below.")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="trend-title trend-desc" font-size="12" width="100%">',
             f'<title id="trend-title">{escape(title)}</title>', f'<desc id="trend-desc">{escape(description)}</desc>']
    for tick in sorted({0, peak // 2, peak}):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ccc"/>'
                     f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, tertial in enumerate(trend.tertials):
        parts.append(f'<text x="{x(i):.1f}" y="{height - 12}" text-anchor="middle">{escape(tertial.label())}</text>')
    for colour, code in zip(TREND_COLOURS, shown):
        segment: list[str] = []
        for i, count in enumerate(trend.counts[code] + [None]):
            if count is not None and not count.suppressed:
                segment.append(f"{x(i):.1f},{y(count.value):.1f}")
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(count.value):.1f}" r="3" fill="{colour}"/>')
            elif segment:
                parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colour}" stroke-width="2"/>')
                segment = []
    parts.append("</svg>")
    return Markup("".join(parts))
