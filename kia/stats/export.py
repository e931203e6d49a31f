"""A statistics report as a JSON-ready dict, and as one flat table for CSV and XLSX (same numbers)."""
from __future__ import annotations

import csv
import io
from typing import Any

from kia.stats.services import Count, Report, Row

SUPPRESSED = ".."  # the usual mark in official statistics for a hidden figure
LABELLED_KEYS = ("type", "unit")


def _count(count: Count) -> dict[str, Any]:
    return {"count": count.value, "suppressed": count.suppressed}


def _row(report: Report, row: Row) -> dict[str, Any]:
    body: dict[str, Any] = {**row.key, **_count(row.count)}
    for name in report.comparisons:
        other = row.compared[name]
        change = row.change(name)
        body[name] = {**_count(other), "change": change,
                      "change_percent": round(100 * change / other.value, 1) if change is not None
                      and other.value else None}
    if row.case_figures:
        body.update(row.case_figures)
    return body


def _period(period) -> dict[str, Any]:
    return {"year": period.tertial.year, "tertial": period.tertial.number, "scope": str(period.scope),
            "first_day": period.first_day.isoformat(), "last_day": period.last_day.isoformat()}


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "org_unit": {"code": report.org_unit.code, "name": report.org_unit.name},
        "period": _period(report.period),
        "comparisons": {name: _period(p) for name, p in report.comparisons.items()},
        "group_by": list(report.group_by),
        "measure": str(report.measure),
        "suppression_threshold": report.threshold,
        "rows": [_row(report, r) for r in report.rows],
        "subtotals": {key: [_row(report, r) for r in rows] for key, rows in report.subtotals.items()},
        "total": _row(report, report.total),
        "labels": report.labels,
        "case_figures": list(report.case_figures),
        "case_figures_not_yet_available": list(report.pending_case_figures),
    }


def flat_table(report: Report) -> tuple[list[str], list[list[Any]]]:
    """One header and one line per row, subtotal and the total; None where a figure is suppressed."""
    header = ["level"]
    for key in report.group_by:
        header += [key, f"{key}_name"] if key in LABELLED_KEYS else [key]
    header.append("count")
    for name in report.comparisons:
        header += [f"{name}_count", f"{name}_change"]
    header += list(report.case_figures)

    def line(level: str, row: Row) -> list[Any]:
        cells: list[Any] = [level]
        for key in report.group_by:
            code = row.key.get(key, "")
            cells.append(code)
            if key in LABELLED_KEYS:
                cells.append(report.labels.get(key, {}).get(code, ""))
        cells.append(row.count.value)
        for name in report.comparisons:
            cells += [row.compared[name].value, row.change(name)]
        cells += [row.case_figures.get(name) for name in report.case_figures]
        return cells

    lines = [line("row", r) for r in report.rows]
    lines += [line(f"subtotal:{key}", r) for key, rows in report.subtotals.items() for r in rows]
    lines.append(line("total", report.total))
    return header, lines


def to_csv(report: Report) -> bytes:
    """UTF-8 with a byte-order mark, so Excel reads å, ä, ö; suppressed figures are '..'."""
    header, lines = flat_table(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for line in lines:
        writer.writerow([SUPPRESSED if value is None else value for value in line])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook

    header, lines = flat_table(report)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"T{report.period.tertial.number} {report.period.tertial.year}"
    sheet.append(header)
    for line in lines:
        sheet.append([SUPPRESSED if value is None else value for value in line])
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
