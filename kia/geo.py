"""WGS84 points: the checks a unit's coordinates and an event's point pass, and the distance between two points."""
from __future__ import annotations

import math

from kia.errors import N_, FieldErrors

EARTH_RADIUS_M = 6_371_008.8
# An event's point must lie on its unit's site: a school with its yard and halls fits in this radius of the unit's
# coordinates, and a point further off was most likely put in the wrong place.
EVENT_POINT_RADIUS_M = 1_000


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def checked_point(errors: FieldErrors, latitude, longitude, lat_path: str = "latitude",
                  lon_path: str = "longitude") -> tuple[float, float] | None:
    """(latitude, longitude) as numbers in range, None for neither; both or neither, else errors at their paths."""
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        errors.add(lat_path if latitude is None else lon_path, N_("Give both latitude and longitude, or neither."))
        return None
    ok = True
    for path, value, limit in ((lat_path, latitude, 90), (lon_path, longitude, 180)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not -limit <= value <= limit:
            errors.add(path, N_("Must be a number of degrees from -%(limit)s to %(limit)s (WGS84)."), limit=limit)
            ok = False
    return (float(latitude), float(longitude)) if ok else None
