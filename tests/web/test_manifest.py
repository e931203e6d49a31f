"""The web app manifest (add KIA to a phone's home screen): served as JSON, linked from every page, its icons real."""
from __future__ import annotations

import json
import re
import struct

import pytest


def manifest(client, language: str = "sv") -> dict:
    response = client.get("/manifest.webmanifest", headers={"Accept-Language": language})
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    return json.loads(response.get_data(as_text=True))


def test_the_manifest_opens_kia_standalone_at_the_start_page(client):
    body = manifest(client)
    assert body["name"] == "KIA" and body["short_name"] == "KIA"
    assert body["description"] == "Rapportera händelser i skolan och följ upp ärendena."
    assert body["lang"] == "sv"
    assert body["start_url"] == "/" and body["scope"] == "/"
    assert body["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", body["theme_color"])


def test_the_manifest_speaks_the_visitors_language(client):
    assert manifest(client, "en")["description"] == "Report incidents at school and follow up the cases."


def test_every_icon_the_manifest_names_is_served_as_what_it_says(client):
    icons = manifest(client)["icons"]
    assert {i["type"] for i in icons} == {"image/svg+xml", "image/png"}
    assert {"192x192", "512x512"} <= {i["sizes"] for i in icons}   # what phones ask of an installable app
    for icon in icons:
        response = client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        assert response.mimetype == icon["type"]
        data = response.get_data()
        if icon["type"] == "image/png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = struct.unpack(">II", data[16:24])   # the IHDR chunk
            assert f"{width}x{height}" == icon["sizes"]
        else:
            assert b"<svg" in data


@pytest.mark.parametrize("url", ["/", "/login", "/anonymous", "/followup"])
def test_every_page_links_the_manifest_and_the_theme_colour_under_the_same_policy(client, url):
    response = client.get(url)
    html = response.get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    theme = re.search(r'<meta name="theme-color" content="([^"]+)">', html).group(1)
    assert theme == manifest(client)["theme_color"]
    icon = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', html).group(1)
    assert client.get(icon).mimetype == "image/png"
    # The policy is the app's, unchanged: the manifest needs none of its own (manifest-src falls back to 'self').
    assert response.headers["Content-Security-Policy"] == client.get("/manifest.webmanifest").headers[
        "Content-Security-Policy"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
