"""The event map (/karta): a thin view over kia.stats.map. The table is the page; the map is drawn over it by
web/static/map.js from the same figures, so without JavaScript (or a screen reader) the table says it all."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import or_, select

from kia.access.statistics import statistics_roots
from kia.errors import InvalidQuery, NotFound
from kia.http import db_session, state
from kia.incidents.types import list_types
from kia.orgs.models import OrgUnit
from kia.stats.map import EventMap, MapQuery, event_map
from kia.stats.periods import Tertial
from web import signed_in_actor, web_blueprint
from web.reporting import language
from web.statistics import _default_unit


def _query() -> MapQuery:
    today = datetime.now(state().settings.timezone).date()
    try:
        tertial = Tertial(int(request.args.get("year", today.year)),
                          int(request.args.get("tertial", Tertial.containing(today).number)))
    except ValueError:
        abort(400)
    if not 2000 <= tertial.year <= 2100:
        abort(400)
    code = request.args.get("org_unit") or _default_unit(signed_in_actor())
    if code is None:
        abort(404)
    return MapQuery(tertial.year, tertial.number, code, type=request.args.get("type") or None)


def _readable_units(roots: list[str]) -> list[tuple[OrgUnit, int]]:
    """The units the actor may map (every unit under a statistics root), in tree order with their depth."""
    units = db_session().scalars(select(OrgUnit).where(or_(*(OrgUnit.path.like(f"{root}%") for root in roots)))
                                 .order_by(OrgUnit.path)).all()
    return [(u, u.path.count("/") - 2) for u in units]


def tile_source(url: str) -> str | None:
    """The CSP source of a tile URL template: its scheme and host, a {s} subdomain as a wildcard."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def _script_data(found: EventMap, units: list[tuple[OrgUnit, int]]) -> dict:
    settings = state().settings
    subtree = [u for u, _depth in units if u.path.startswith(found.org_unit.path) and u.has_coordinates]
    return {
        "markers": found.markers(),
        # Every unit of the subtree with coordinates, as a plain point without a count: where the schools are.
        "points": [{"name": u.name, "lat": u.latitude, "lon": u.longitude} for u in subtree],
        "tiles": {"url": settings.map_tiles_url, "attribution": settings.map_tiles_attribution}
        if tile_source(settings.map_tiles_url) else None,
        "labels": {"events": _("events"), "units": _("units"), "map": _("Map of the events per unit")},
    }


@web_blueprint.get("/karta")
@login_required
def event_map_page():
    actor, settings = signed_in_actor(), state().settings
    query = _query()
    try:
        found = event_map(db_session(), actor, query, settings.timezone, settings.stats_suppression_threshold)
    except NotFound:
        abort(404)
    except InvalidQuery:
        abort(400)
    units = _readable_units(statistics_roots(actor))
    response = render_template(
        "web/map.html", found=found, query=query, units=units, language=language(),
        types=list_types(db_session(), include_inactive=True), data=_script_data(found, units))
    headers = {}
    source = tile_source(settings.map_tiles_url)
    if source:
        headers["Content-Security-Policy"] = (f"default-src 'self'; img-src 'self' data: {source}; object-src 'none'; "
                                              "frame-ancestors 'none'; base-uri 'self'")
    return response, 200, headers
