"""Gallring: how long each event type's personal data is kept after its cases close, the nightly erasure, legal
holds and the run log (DOMAIN.md, "Privacy and records")."""
