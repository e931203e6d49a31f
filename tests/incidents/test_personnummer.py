from datetime import date

import pytest

from kia.incidents.personnummer import InvalidPersonnummer, mask, normalise

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize("raw, expected", [
    ("20121212-1212", "20121212-1212"),
    ("201212121212", "20121212-1212"),
    ("121212-1212", "20121212-1212"),
    ("1212121212", "20121212-1212"),
    ("121212+1212", "19121212-1212"),   # a hundred years or older
    ("811218-9876", "19811218-9876"),   # short form, previous century
    ("701063-2391", "19701063-2391"),   # samordningsnummer: day + 60, kept as given
])
def test_valid_numbers_are_normalised(raw, expected):
    assert normalise(raw, TODAY) == expected


@pytest.mark.parametrize("raw", [
    "20121212-1213",   # wrong check digit
    "20121312-1211",   # month 13 (the check digit is right for these digits)
    "20300101-0002",   # born in the future (check digit right)
    "20121232-1218",   # day 32 (check digit right)
    "20121212121",     # eleven digits: no valid form
    "abcdefgh-1234",
    "",
    "20121212+1212",   # '+' only in the short form
])
def test_invalid_numbers_are_refused(raw):
    with pytest.raises(InvalidPersonnummer):
        normalise(raw, TODAY)


def test_mask_keeps_birth_date_only():
    assert mask("20121212-1212") == "20121212-****"
    assert mask(None) is None
