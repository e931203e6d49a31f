"""The WSGI application for servers: `gunicorn 'kia.wsgi:app'` (settings from the environment, kia/config.py)."""
from kia.app import create_app, serving

app = serving(create_app())
