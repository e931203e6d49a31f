"""Plain factories for tests: an org tree, users with roles, tokens and valid incident bodies."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kia.access import Actor
from kia.auth.tokens import SCOPES, create_token
from kia.orgs.models import OrgUnit, User
from kia.orgs.services import create_org_unit, create_user

_counter = itertools.count(1)

THREAT_FIELDS = {"threat_kind": "verbal_threat", "weapon": "none", "police_report_made": "no"}


def incident_body(**overrides) -> dict:
    """A valid threat_violence report for unit S1; override any key."""
    body = {
        "type": "threat_violence",
        "org_unit": "S1",
        "occurred_at": "2026-03-10T09:30:00",
        "known_at": "2026-03-10T09:45:00",
        "location": "Korridor plan 2",
        "description": "Elev hotade läraren efter en tillsägelse.",
        "persons": [{"role": "affected", "category": "staff", "gender": "female"},
                    {"role": "perpetrator", "category": "pupil", "gender": "male", "class_name": "8B"}],
        "fields": dict(THREAT_FIELDS),
    }
    body.update(overrides)
    return body


def victimisation_body(pupils: int = 1, **overrides) -> dict:
    persons = [{"role": "affected", "category": "pupil", "gender": "female", "name": f"Elev {i}",
                "personal_number": "20121212-1212"} for i in range(pupils)]
    persons.append({"role": "perpetrator", "category": "pupil", "gender": "male"})
    return incident_body(type="victimisation", persons=persons,
                         fields={"classification": "harassment", "discrimination_grounds": ["ethnicity"]},
                         **overrides)


@dataclass
class Tree:
    units: dict[str, OrgUnit]

    def __getitem__(self, code: str) -> OrgUnit:
        return self.units[code]


class Factory:
    def __init__(self, db: Session):
        self.db = db

    def tree(self) -> Tree:
        def unit(code, name, kind, parent=None):
            return create_org_unit(self.db, code, name, kind, parent, commit=False)

        city = unit("STHLM", "Stockholms stad", "city")
        utbf = unit("UTBF", "Utbildningsförvaltningen", "administration", city)
        gru = unit("GRU", "Grundskoleavdelningen", "department", utbf)
        s1 = unit("S1", "Skola Ett", "unit", gru)
        s2 = unit("S2", "Skola Två", "unit", gru)
        gym = unit("GYM", "Gymnasieavdelningen", "department", utbf)
        g1 = unit("G1", "Gymnasium Ett", "unit", gym)
        hagalv = unit("HAGALV", "Hägersten-Älvsjö stadsdelsförvaltning", "administration", city)
        f1 = unit("F1", "Förskolan Ett", "unit", hagalv)
        self.db.commit()
        return Tree({u.code: u for u in (city, utbf, gru, s1, s2, gym, g1, hagalv, f1)})

    def user(self, *roles: tuple[str, str], name: str | None = None, language: str = "sv") -> User:
        n = next(_counter)
        return create_user(self.db, f"user{n}@test.kia.se", name or f"User {n}", None, list(roles),
                           language=language)

    def actor(self, *roles: tuple[str, str]) -> Actor:
        return Actor.for_user(self.user(*roles))

    def token(self, user: User, scopes=SCOPES) -> str:
        return create_token(self.db, user, list(scopes))[1]


class ApiClient:
    """The Flask test client with a Bearer token for a user with the given roles."""

    def __init__(self, client, make: Factory):
        self.client = client
        self.make = make

    def as_user(self, user: User, scopes=SCOPES, language: str | None = None) -> "UserClient":
        return UserClient(self.client, self.make.token(user, scopes), language)

    def as_roles(self, *roles: tuple[str, str], scopes=SCOPES, language: str | None = None) -> "UserClient":
        return self.as_user(self.make.user(*roles), scopes, language)


class UserClient:
    def __init__(self, client, token: str, language: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        if language:
            self.headers["Accept-Language"] = language

    def request(self, method: str, url, **kwargs):
        return self.client.open(url, method=method, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)

    def patch(self, url, **kwargs):
        return self.request("PATCH", url, **kwargs)

    def put(self, url, **kwargs):
        return self.request("PUT", url, **kwargs)

    def file(self, body: dict, **kwargs):
        return self.post("/api/v1/incidents", json=body, **kwargs)
