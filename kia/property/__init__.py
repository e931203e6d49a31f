"""Felanmälan: fault reports from a case to the property owner of its building (Open311 GeoReport v2 or e-mail)."""
