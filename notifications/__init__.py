"""Notifications: outbox, channels (e-mail, in-app, webhook), templates and the dispatcher (issue 4)."""
