"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer).

Accepts YYMMDD-NNNN, YYMMDD+NNNN (100 years or older), YYYYMMDDNNNN and YYYYMMDD-NNNN; checks the
date (day + 60 for a samordningsnummer) and the Luhn check digit; normalises to YYYYMMDD-NNNN.
"""
from __future__ import annotations

import re
from datetime import date

_PATTERN = re.compile(r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$")


class InvalidPersonnummer(ValueError):
    pass


def _luhn_ok(ten_digits: str) -> bool:
    total = 0
    for index, char in enumerate(ten_digits):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def normalise(value: str, today: date | None = None) -> str:
    """Return the number as YYYYMMDD-NNNN or raise InvalidPersonnummer."""
    today = today or date.today()
    match = _PATTERN.match((value or "").strip().replace(" ", ""))
    if not match:
        raise InvalidPersonnummer("format")
    yymmdd, serial, check = match["yymmdd"], match["serial"], match["check"]
    if not _luhn_ok(yymmdd + serial + check):
        raise InvalidPersonnummer("check digit")
    year_2, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    if day > 60:  # samordningsnummer
        day -= 60
    if match["century"]:
        if match["sep"] == "+":
            raise InvalidPersonnummer("format")
        year = int(match["century"]) * 100 + year_2
    else:
        # Short form: the latest year not in the future; "+" adds another hundred years.
        year = (today.year // 100) * 100 + year_2
        if year > today.year:
            year -= 100
        if match["sep"] == "+":
            year -= 100
    try:
        born = date(year, month, day)
    except ValueError as exc:
        raise InvalidPersonnummer("date") from exc
    if born > today:
        raise InvalidPersonnummer("date")
    return f"{year:04d}{yymmdd[2:]}-{serial}{check}"


def mask(normalised: str | None) -> str | None:
    """YYYYMMDD-NNNN → YYYYMMDD-****: the birth date is kept for context, the serial hidden."""
    if not normalised:
        return normalised
    return normalised[:9] + "****"
