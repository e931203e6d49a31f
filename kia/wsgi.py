"""The WSGI application for servers: `gunicorn 'kia.wsgi:app'` (settings from the environment, kia/config.py)."""
from kia.app import create_app, serving
from kia.config import Settings
from kia.logs import configure_logging

settings = Settings.from_env()
configure_logging(settings.log_format)
app = serving(create_app(settings))
