"""Disclosure control: small counts hidden, and no hidden count recoverable from what is published."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy.optimize import linprog

from kia.stats.suppression import Equation, suppress, table_equations


def attacker_intervals(values, equations, hidden) -> dict:
    """What a reader can learn about each hidden count: its [min, max] under the published counts,
    the equations and "hidden means at least 1" (zeros are shown). Solved as linear programmes; the
    tables' equations are totally unimodular, so the bounds are the integer ones."""
    order = sorted(hidden, key=repr)
    column = {cell: i for i, cell in enumerate(order)}
    rows, rhs = [], []
    for equation in equations:
        row, known = np.zeros(len(order)), 0
        for member, sign in ((equation.total, 1), *((p, -1) for p in equation.parts)):
            if member in hidden:
                row[column[member]] += sign
            else:
                known -= sign * values[member]
        if row.any():
            rows.append(row)
            rhs.append(known)
    intervals = {}
    for cell in order:
        objective = np.zeros(len(order))
        objective[column[cell]] = 1
        bounds = [(1, None)] * len(order)
        low = linprog(objective, A_eq=rows or None, b_eq=rhs or None, bounds=bounds)
        high = linprog(-objective, A_eq=rows or None, b_eq=rhs or None, bounds=bounds)
        assert low.status == 0 and high.status in (0, 3)  # 3: unbounded above, which is safe
        intervals[cell] = (round(low.fun), None if high.status == 3 else round(-high.fun))
    return intervals


def exposed(values, equations, hidden) -> dict:
    return {cell: bounds for cell, bounds in attacker_intervals(values, equations, hidden).items()
            if bounds[0] == bounds[1]}


def hidden_cells(cells, threshold=5):
    values, equations = table_equations(cells, len(next(iter(cells))))
    return values, equations, suppress(values, equations, threshold)


def test_small_counts_are_hidden_and_zeros_and_large_counts_shown():
    values, equations, hidden = hidden_cells({("a",): 0, ("b",): 4, ("c",): 5, ("d",): 12})
    # b=4 is small; with only the total published it needs a partner: the smallest other non-zero, c.
    assert hidden == {("cell", ("b",)), ("cell", ("c",))}
    assert not exposed(values, equations, hidden)


def test_one_small_cell_in_a_two_way_table_hides_a_rectangle():
    cells = {("a", "x"): 3, ("a", "y"): 10, ("b", "x"): 12, ("b", "y"): 20, ("c", "x"): 0, ("c", "y"): 7}
    values, equations, hidden = hidden_cells(cells)
    assert hidden == {("cell", k) for k in [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")]}
    assert not exposed(values, equations, hidden)


def test_two_hidden_ones_in_a_row_are_not_enough():
    # Row a: 1 + 1 with the row total 2 published would give both away.
    cells = {("a", "x"): 1, ("a", "y"): 1, ("a", "z"): 9, ("b", "x"): 1, ("b", "y"): 1, ("b", "z"): 30}
    values, equations, hidden = hidden_cells(cells)
    assert not exposed(values, equations, hidden)
    assert len(hidden) > 4


def test_a_small_grand_total_is_hidden_with_its_parts():
    values, equations, hidden = hidden_cells({("a",): 2, ("b",): 0})
    assert hidden == {("cell", ("a",)), ("total",)}


def test_a_cell_joining_two_hidden_blocks_is_caught_by_the_rank_check():
    # The hidden cell e joins block {a,b,c,d} to the rest; the equations below fix e = r2 - (c + d)
    # with c + d = c1 + c2 - r1, although every equation holds two or more hidden counts.
    equations = [Equation("r1", ("a", "b")), Equation("r2", ("c", "d", "e")),
                 Equation("c1", ("a", "c")), Equation("c2", ("b", "d")), Equation("c3", ("e", "f"))]
    values = {"a": 6, "b": 6, "c": 6, "d": 6, "e": 7, "f": 9, "r1": 12, "r2": 19, "c1": 12, "c2": 12, "c3": 16}
    assert exposed(values, equations, {"a", "b", "c", "d", "e", "f"}) == {"e": (7, 7), "f": (9, 9)}
    hidden = suppress({**values, "a": 1}, equations, threshold=5)
    assert not exposed({**values, "a": 1}, equations, hidden)


@st.composite
def tables(draw):
    """Two-way tables of mostly small counts (many of them hidden), or one-way lists."""
    two_way = draw(st.booleans())
    rows = draw(st.integers(1, 5))
    columns = draw(st.integers(2, 5)) if two_way else 1
    counts = st.one_of(st.integers(0, 6), st.integers(0, 40))
    cells = {}
    for r in range(rows):
        for c in range(columns):
            cells[(f"r{r}", f"c{c}") if two_way else (f"r{r}",)] = draw(counts)
    return cells, draw(st.integers(2, 6))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_hidden_count_can_be_worked_out_from_the_published_ones(table):
    cells, threshold = table
    values, equations = table_equations(cells, len(next(iter(cells))))
    hidden = suppress(values, equations, threshold)
    assert {c for c, v in values.items() if 0 < v < threshold} <= hidden
    assert all(values[c] > 0 for c in hidden)  # zeros are always shown
    assert not exposed(values, equations, hidden)


@pytest.mark.parametrize("threshold", [3, 5, 10])
def test_three_way_table_hides_nothing_it_need_not(threshold):
    cells = {(a, b, c): 20 for a in "xy" for b in "pq" for c in "mn"}
    values, equations = table_equations(cells, 3)
    assert suppress(values, equations, threshold) == set()
