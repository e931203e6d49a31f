"""The web app manifest: staff add KIA to a phone's home screen and it opens like an app, on the reporting page."""
from __future__ import annotations

import json

from flask import Response, url_for
from flask_babel import get_locale, gettext as _

from web import web_blueprint

THEME_COLOUR = "#00375a"   # the header's blue: the phone's status bar matches it
ICONS = (("icons/kia.svg", "image/svg+xml", "any"), ("icons/kia-192.png", "image/png", "192x192"),
         ("icons/kia-512.png", "image/png", "512x512"))


@web_blueprint.app_context_processor
def _theme_colour():
    return {"theme_colour": THEME_COLOUR}


@web_blueprint.get("/manifest.webmanifest")
def manifest():
    body = {
        "name": "KIA",
        "short_name": "KIA",
        "description": _("Report incidents at school and follow up the cases."),
        "lang": str(get_locale()),
        "start_url": url_for("web.index"),
        "scope": url_for("web.index"),
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": "#ffffff",
        "icons": [{"src": url_for("web.static", filename=path), "type": kind, "sizes": sizes}
                  for path, kind, sizes in ICONS],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Vary"] = "Accept-Language, Cookie"   # its description is in the visitor's language
    return response
