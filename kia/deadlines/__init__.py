"""Deadlines: obligations from rules, the Swedish working-day calendar, and the escalation ladder."""
