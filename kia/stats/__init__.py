"""Tertial statistics: periods, aggregates in SQL, disclosure control and exports."""
