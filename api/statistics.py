"""GET /api/v1/statistics/tertial: aggregated, disclosure-controlled counts (JSON, CSV or XLSX)."""
from __future__ import annotations

from flask import Blueprint, Response, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from api.auth import requires
from api.openapi import problems
from api.problems import load_query
from kia.http import current_actor, db_session, state
from kia.errors import N_
from kia.stats.aggregate import GROUP_KEYS
from kia.stats.export import report_dict, to_csv, to_xlsx
from kia.stats.periods import Scope
from kia.stats.services import COMPARISONS, StatisticsQuery, tertial_statistics

bp = Blueprint("statistics", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CommaList(fields.String):
    """"type,unit" → ("type", "unit"), each checked against `choices`, no repeats."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def _deserialize(self, value, attr, data, **kwargs):
        items = tuple(part.strip() for part in str(value).split(",") if part.strip())
        unknown = [item for item in items if item not in self.choices]
        if unknown:
            raise ValidationError(N_("Unknown: %(values)s. Choose from %(choices)s.")
                                  % {"values": ", ".join(unknown), "choices": ", ".join(self.choices)})
        if len(set(items)) != len(items):
            raise ValidationError(N_("Each value may appear once."))
        return items


class StatisticsQueryIn(Schema):
    class Meta:
        unknown = EXCLUDE

    year = fields.Integer(required=True, strict=False, validate=validate.Range(min=2000, max=2100))
    tertial = fields.Integer(required=True, validate=validate.OneOf([1, 2, 3]),
                             metadata={"description": "1: Jan–Apr, 2: May–Aug, 3: Sep–Dec (Stockholm time)"})
    org_unit = fields.String(required=True, metadata={"description": "org unit code; its whole subtree is counted"})
    scope = fields.String(load_default=Scope.PERIOD.value, validate=validate.OneOf([s.value for s in Scope]),
                          metadata={"description": "period: the tertial; ytd: 1 January to the tertial's end"})
    group_by = CommaList(GROUP_KEYS, load_default=(), metadata={"description": "comma-separated"})
    compare = CommaList(COMPARISONS, load_default=(), metadata={"description": "comma-separated"})
    case_figures = fields.Boolean(load_default=True,
                                  metadata={"description": "false: counts only (faster; no case figures)"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))


DESCRIPTION = """Counts of the subtree of `org_unit` for a tertial (T1 Jan–Apr, T2 May–Aug, T3 Sep–Dec,
Stockholm time), grouped by any of type, unit, category, gender, person_category and state. `unit`
groups by the direct children of `org_unit`, each with its whole subtree (incidents filed on
`org_unit` itself form a row of their own). `scope=ytd` counts from 1 January to the tertial's end;
comparisons use the same scope (`previous`: the tertial before, T1's being last year's T3;
`last_year`: the same tertial a year earlier).

What is counted (`measure`): **incidents**, by when they occurred, when grouped by type, unit and
category only; **affected persons** (role affected, of any category) when grouped by gender or
person_category – an incident without affected persons is then not counted; **cases opened in the
period** when grouped by state. State cannot be combined with gender or person_category (400).

Disclosure control: every published count (rows, `subtotals` per key when grouping by two keys or more,
`total`) from 1 to threshold−1 is `null` with `suppressed: true` (`..` in CSV and XLSX), and further
counts are hidden until none can be worked out from the published ones and the fact that a hidden
count is at least 1. Zeros are shown. Comparison periods are suppressed the same way, each on its own;
a change is null when either count is hidden.

Case figures are about the cases opened in the period, per row when rows count incidents and for the
total: `share_closed` (rejected counts as not closed), `median_days_to_close` (of the closed ones),
`share_overdue` (open with an obligation past due now) and `share_serious_reported_to_av` (of the
serious cases, AML 3:3a, those with the milestone reported_to_av). Each is null unless the row's count is
shown and the figure rests on at least threshold cases (closed ones for the median, serious ones for the
AV share). `case_figures_not_yet_available` lists figures not computed yet (none at present).

Who may: a token with statistics:read whose user holds analyst, handler, principal_org or
safety_officer on `org_unit` or an ancestor. Any other unit – or an unknown one – is 404. Only
aggregates are returned: never an incident id, a name or free text."""


@bp.get("/statistics/tertial")
@requires("statistics:read")
def tertial():
    args = load_query(StatisticsQueryIn(), request.args)
    output = args.pop("format")
    settings = state().settings
    report = tertial_statistics(db_session(), current_actor(), StatisticsQuery(**args), settings.timezone,
                                settings.stats_suppression_threshold)
    if output == "json":
        return report_dict(report)
    filename = f"tertial-{report.period.tertial.year}-T{report.period.tertial.number}-{report.org_unit.code}"
    # content_type, not mimetype: Werkzeug appends "; charset=utf-8" to a text/* mimetype, a second time here.
    body, content_type = (to_csv(report), "text/csv; charset=utf-8") if output == "csv" else (to_xlsx(report), XLSX)
    return Response(body, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{output}"'})


OPENAPI_SCHEMAS: dict = {}

_COUNT = {"type": "object", "properties": {
    "count": {"type": "integer", "nullable": True}, "suppressed": {"type": "boolean"}}}
_ROW = {"type": "object", "description": "the group's keys (codes), count, one object per comparison "
                                         "(count, suppressed, change, change_percent) and case figures",
        "properties": {**_COUNT["properties"], **{name: {"type": "number", "nullable": True} for name in (
            "share_closed", "median_days_to_close", "share_overdue", "share_serious_reported_to_av")}},
        "additionalProperties": True}
_PERIOD = {"type": "object", "properties": {k: {"type": t} for k, t in (
    ("year", "integer"), ("tertial", "integer"), ("scope", "string"), ("first_day", "string"),
    ("last_day", "string"))}}
REPORT = {"type": "object", "properties": {
    "org_unit": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
    "period": _PERIOD, "comparisons": {"type": "object", "additionalProperties": _PERIOD},
    "group_by": {"type": "array", "items": {"type": "string"}},
    "measure": {"type": "string", "enum": ["incidents", "affected_persons", "cases"]},
    "suppression_threshold": {"type": "integer"},
    "rows": {"type": "array", "items": _ROW},
    "subtotals": {"type": "object", "additionalProperties": {"type": "array", "items": _ROW}},
    "total": _ROW,
    "labels": {"type": "object", "description": "names of type and unit codes"},
    "case_figures": {"type": "array", "items": {"type": "string"}},
    "case_figures_not_yet_available": {"type": "array", "items": {"type": "string"}}}}


def openapi_paths(spec) -> None:
    spec.path("/statistics/tertial", operations={"get": {
        "summary": "Tertial statistics of a subtree, with comparisons and disclosure control",
        "description": DESCRIPTION, "tags": ["statistics"],
        "parameters": [{"in": "query", "schema": StatisticsQueryIn}],
        "responses": {"200": {"description": "The report (JSON), or the same figures as CSV or XLSX",
                              "content": {"application/json": {"schema": REPORT},
                                          "text/csv": {"schema": {"type": "string"}},
                                          XLSX: {"schema": {"type": "string", "format": "binary"}}}},
                      **problems(400, 401, 403, 404)}}})
