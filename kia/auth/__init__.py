"""Credentials: argon2 password hashes and API tokens with scopes."""
