"""Delivery of the outbox (kia.outbox): channels, templates, the dispatcher, daily digests and their APIs."""
