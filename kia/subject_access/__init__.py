"""Registerutdrag (GDPR art. 15): every record naming one person, found by personal number, for the admins and the
dataskyddsombud; as data (JSON) and as a printable PDF."""
