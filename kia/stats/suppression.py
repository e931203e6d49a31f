"""Disclosure control: hide small counts, then hide enough other counts that no hidden one can be
worked out from the published totals.

A published table is a set of counts (cells, marginal totals, the grand total) tied by equations
`total = sum(parts)`. A reader knows every published count, every equation, and that a hidden count
is at least 1 (zeros are shown). A hidden count is safe when those facts leave it more than one value.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Hashable, Iterable, Mapping, Sequence

# Imported with the module, so at a server's start-up: imported on first use, numpy and scipy made the first
# table of a worker with a hidden count at 1 (a school's lägesbild, say) wait 0.4 s or more for them.
import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array

CellId = Hashable
# A Mersenne prime: exact rank over the rationals for our 0/±1 systems, with small-int arithmetic.
_PRIME = (1 << 61) - 1


@dataclass(frozen=True)
class Equation:
    total: CellId
    parts: tuple[CellId, ...]

    @property
    def members(self) -> tuple[CellId, ...]:
        return (self.total, *self.parts)


def table_equations(cells: Mapping[tuple, int], dimensions: int) -> tuple[dict[CellId, int], list[Equation]]:
    """The counts and equations of a table grouped by `dimensions` keys, as it is published: its cells,
    the total per value of each key (when there are two keys or more) and the grand total.

    Ids: ("cell", key tuple), ("margin", key index, value), ("total",).
    """
    values: dict[CellId, int] = {("cell", key): count for key, count in cells.items()}
    total = ("total",)
    values[total] = sum(cells.values())
    if dimensions < 2:
        return values, [Equation(total, tuple(("cell", key) for key in cells))]
    equations = []
    for index in range(dimensions):
        slices: dict[object, list[CellId]] = defaultdict(list)
        for key in cells:
            slices[key[index]].append(("cell", key))
        for value, parts in slices.items():
            margin = ("margin", index, value)
            values[margin] = sum(values[p] for p in parts)
            equations.append(Equation(margin, tuple(parts)))
        equations.append(Equation(total, tuple(("margin", index, value) for value in slices)))
    return values, equations


def suppress(values: Mapping[CellId, int], equations: Sequence[Equation], threshold: int) -> set[CellId]:
    """The ids to hide: every count from 1 to threshold-1, and further counts until none is exposed."""
    hidden = {cell for cell, value in values.items() if 0 < value < threshold}
    if not hidden:
        return hidden
    containing: dict[CellId, list[Equation]] = defaultdict(list)
    for equation in equations:
        for member in equation.members:
            containing[member].append(equation)
    while True:
        _protect_each_equation(values, equations, hidden, containing)
        pinned = _pinned(values, equations, hidden)
        if not pinned:
            return hidden
        extra = _candidate_near(values, pinned[0], hidden, containing)
        if extra is None:
            return hidden  # every non-zero count is hidden already
        hidden.add(extra)


def _protect_each_equation(values, equations, hidden: set[CellId], containing) -> None:
    """Fixed point of the local rule: an equation must not pin any of its hidden members."""
    changed = True
    while changed:
        changed = False
        for equation in equations:
            if _exposes(values, equation, hidden):
                extra = _candidate(values, [equation], hidden, containing)
                if extra is not None:
                    hidden.add(extra)
                    changed = True


def _exposes(values, equation: Equation, hidden: set[CellId]) -> bool:
    hidden_members = [m for m in equation.members if m in hidden]
    if not hidden_members:
        return False
    if len(hidden_members) == 1:
        return True  # the one hidden count is the total minus the rest (or the sum of the parts)
    # With the total published, k hidden parts summing to k can only all be 1.
    return equation.total not in hidden and sum(values[m] for m in hidden_members) == len(hidden_members)


def _candidate(values, equations: Iterable[Equation], hidden: set[CellId],
               containing: Mapping[CellId, list[Equation]]) -> CellId | None:
    """The published non-zero part of these equations that is cheapest to hide: first one whose other
    equations already hold hidden counts (hiding it there adds no new exposure), then the smallest.
    Their total only when no part will do."""
    def cost(cell: CellId):
        fresh = sum(1 for eq in containing[cell] if not any(m in hidden for m in eq.members))
        return fresh, values[cell], repr(cell)

    parts = [p for eq in equations for p in eq.parts if p not in hidden and values[p] > 0]
    if parts:
        return min(parts, key=cost)
    totals = [eq.total for eq in equations if eq.total not in hidden and values[eq.total] > 0]
    return min(totals, key=cost) if totals else None


def _candidate_near(values, cell: CellId, hidden: set[CellId],
                    containing: Mapping[CellId, list[Equation]]) -> CellId | None:
    """A count to hide next to a pinned one: in its own equations, else in the equations reached
    through their hidden members, widening until one is found."""
    seen_cells, frontier = {cell}, [cell]
    while frontier:
        equations = [eq for c in frontier for eq in containing[c]]
        extra = _candidate(values, equations, hidden, containing)
        if extra is not None:
            return extra
        frontier = [m for eq in equations for m in eq.members if m in hidden and m not in seen_cells]
        seen_cells.update(frontier)
    return None


def _pinned(values, equations: Sequence[Equation], hidden: set[CellId]) -> list[CellId]:
    """Hidden counts that the equations and "at least 1" leave a single value.

    From the true counts x, a reader can move to x + d for any d with A·d = 0 (A: the equations over the
    hidden counts) and d_i >= 0 where x_i = 1. A hidden count with d_i = 0 for every such d is pinned.
    Counts at 1 that cannot go up are found with linear programmes (only when there are any); they are
    then fixed (d_i = 0), and what remains is a question of linear algebra: x_i is pinned iff the unit
    vector e_i lies in the row space of A plus those fixed rows.
    """
    rows = []
    for equation in equations:
        row: dict[CellId, int] = {}
        for member, sign in ((equation.total, 1), *((p, -1) for p in equation.parts)):
            if member in hidden:
                row[member] = row.get(member, 0) + sign
        if any(row.values()):
            rows.append(row)
    at_one = sorted((c for c in hidden if values[c] == 1), key=repr)
    fixed = _stuck_at_one(rows, sorted(hidden, key=repr), at_one) if at_one else []
    return _determined(rows + [{cell: 1} for cell in fixed])


def _stuck_at_one(rows: list[dict], cells: list[CellId], at_one: list[CellId]) -> list[CellId]:
    """The hidden counts at 1 that no direction d (A·d = 0, d >= 0 on counts at 1) can raise."""
    column = {cell: i for i, cell in enumerate(cells)}
    entries = [(r, column[cell], c) for r, row in enumerate(rows) for cell, c in row.items() if c]
    a_eq = coo_array(([e[2] for e in entries], ([e[0] for e in entries], [e[1] for e in entries])),
                     shape=(len(rows), len(cells))).tocsr()
    raisable = set(at_one)
    bounds = [(0, 1) if cell in raisable else (-1, 1) for cell in cells]
    open_cells = list(at_one)
    while open_cells:
        # Maximise the sum of the still-open counts' movements; any that moves can be raised.
        objective = np.zeros(len(cells))
        for cell in open_cells:
            objective[column[cell]] = -1
        result = linprog(objective, A_eq=a_eq, b_eq=np.zeros(len(rows)), bounds=bounds, method="highs")
        moved = [cell for cell in open_cells if result.status == 0 and result.x[column[cell]] > 1e-7]
        if not moved:
            return open_cells
        open_cells = [cell for cell in open_cells if cell not in moved]
    return []


def _determined(rows: list[dict[CellId, int]]) -> list[CellId]:
    """Unknowns fixed by the homogeneous system `rows` (reduced echelon form, exact modulo a prime)."""
    basis: dict[CellId, dict[CellId, int]] = {}  # pivot -> row with pivot coefficient 1
    for original in rows:
        row = {k: v % _PRIME for k, v in original.items() if v % _PRIME}
        for pivot in [k for k in row if k in basis]:
            _eliminate(row, pivot, basis[pivot])
        if row:
            pivot = min(row, key=repr)
            inverse = pow(row[pivot], _PRIME - 2, _PRIME)
            row = {k: v * inverse % _PRIME for k, v in row.items()}
            for other in basis.values():
                _eliminate(other, pivot, row)
            basis[pivot] = row
    return sorted((pivot for pivot, row in basis.items() if len(row) == 1), key=repr)


def _eliminate(row: dict[CellId, int], pivot: CellId, pivot_row: dict[CellId, int]) -> None:
    """row -= row[pivot] * pivot_row (in place), keeping only non-zero entries."""
    factor = row.get(pivot, 0)
    if not factor:
        return
    for key, value in pivot_row.items():
        updated = (row.get(key, 0) - factor * value) % _PRIME
        if updated:
            row[key] = updated
        else:
            row.pop(key, None)
