"""Filings sent over HTTP to a real server by client threads, each with its own Idempotency-Key and retried until it
is answered; and what the database must show afterwards: each acknowledged filing stored once, in full, numbered
without a gap."""
from __future__ import annotations

import http.client
import json
import random
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import text

from bench.ingest import check_numbering
from bench.ingest_data import BenchData, as_json, incident_report
from kia.db import make_engine, utcnow

STORED = (200, 201)   # 201 filed now, 200 replayed: an earlier try with this key was stored


@dataclass
class Filing:
    key: str
    token: str
    body: bytes
    persons: int
    answers: list[int] = field(default_factory=list)   # each try's status, 0 for a try that got no answer
    refused: int = 0        # tries whose connection was refused (no server listening): never sent
    lost: int = 0           # tries that got no answer: the server died or reset the connection under them
    incident_id: int | None = None
    number: str | None = None
    problems: list[str] = field(default_factory=list)   # unexpected answers (status and start of the body)

    @property
    def acknowledged(self) -> bool:
        return bool(self.answers) and self.answers[-1] in STORED


def make_filings(data: BenchData, count: int, prefix: str, seed: int = 15) -> list[Filing]:
    """`count` varied reports (every type, victimisation with several pupils), each reporter's in turn."""
    rng, now = random.Random(seed), utcnow()
    filings = []
    for index in range(count):
        reporter = data.reporters[index % len(data.reporters)]
        report = incident_report(rng, reporter.unit_code, data.types, now)
        filings.append(Filing(f"{prefix}-{index}", reporter.token, as_json(report), len(report["persons"])))
    return filings


class FilingClient(threading.Thread):
    """Sends its filings one after another on one keep-alive connection. A try that gets no answer, or a 503,
    is sent again (same key, same body) until it is answered or the deadline passes."""

    def __init__(self, port: int, filings: list[Filing], deadline: float, answered: threading.Semaphore | None = None):
        super().__init__(daemon=True)
        self.port, self.filings, self.deadline = port, filings, deadline
        self.answered = answered   # released once per filing stored, for a test that acts after so many
        self.unavailable: list[tuple[int, str, bytes]] = []   # the 503s: status, content type, body

    def run(self) -> None:
        connection = None
        for filing in self.filings:
            while time.monotonic() < self.deadline:
                connection = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                try:
                    connection.request("POST", "/api/v1/incidents", body=filing.body, headers={
                        "Authorization": f"Bearer {filing.token}", "Content-Type": "application/json",
                        "Idempotency-Key": filing.key})
                    response = connection.getresponse()
                    payload = response.read()
                except ConnectionRefusedError:
                    filing.refused += 1
                    connection.close()
                    connection = None
                    time.sleep(0.05)
                    continue
                except (OSError, http.client.HTTPException):
                    filing.lost += 1
                    filing.answers.append(0)
                    connection.close()
                    connection = None
                    time.sleep(0.05)
                    continue
                filing.answers.append(response.status)
                if response.status in STORED:
                    stored = json.loads(payload)
                    filing.incident_id, filing.number = stored["id"], stored["number"]
                    if self.answered is not None:
                        self.answered.release()
                    break
                if response.status == 503:
                    self.unavailable.append((response.status, response.getheader("Content-Type", ""), payload))
                    time.sleep(0.1)
                    continue
                filing.problems.append(f"{response.status}: {payload[:200]!r}")
                break
        if connection is not None:
            connection.close()


def send_all(port: int, filings: list[Filing], clients: int, seconds: float,
             answered: threading.Semaphore | None = None) -> list[FilingClient]:
    """Start `clients` threads sharing the filings; returns them running (join them)."""
    deadline = time.monotonic() + seconds
    threads = [FilingClient(port, filings[i::clients], deadline, answered) for i in range(clients)]
    for thread in threads:
        thread.start()
    return threads


def stored_problems(url: str, filings: list[Filing]) -> list[str]:
    """What is wrong in the database after the run: a filing acknowledged but missing, stored twice, or under
    another incident than its answer named; an incident without all its persons, cases, timeline or deadlines;
    a provisional number left; registration numbers with a gap or a duplicate."""
    problems = check_numbering(url, len(filings))
    engine = make_engine(url)
    with engine.connect() as connection:
        by_key = {key: (incident_id, number, persons) for key, incident_id, number, persons in connection.execute(text(
            "SELECT k.key, i.id, i.number, (SELECT count(*) FROM incident_persons p WHERE p.incident_id = i.id) "
            "FROM idempotency_keys k JOIN incidents i ON i.id = k.incident_id"))}
        keys_per_incident = connection.execute(text(
            "SELECT count(*) FROM (SELECT incident_id FROM idempotency_keys GROUP BY incident_id "
            "HAVING count(*) > 1) twice")).scalar_one()
        half_stored = connection.execute(text("""
            SELECT
              (SELECT count(*) FROM incidents i JOIN incident_types t ON t.id = i.incident_type_id
               WHERE (SELECT count(*) FROM cases c WHERE c.incident_id = i.id)
                     <> CASE WHEN t.case_per_affected_pupil THEN (SELECT count(*) FROM incident_persons p
                             WHERE p.incident_id = i.id AND p.role = 'affected' AND p.category = 'pupil') ELSE 1 END),
              (SELECT count(*) FROM cases c WHERE NOT EXISTS (
                   SELECT 1 FROM case_timeline t WHERE t.case_id = c.id AND t.kind = 'case_created')),
              (SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM obligations o WHERE o.case_id = c.id)),
              (SELECT count(*) FROM cases c JOIN incidents i ON i.id = c.incident_id
               WHERE i.number LIKE '~%' OR c.number NOT LIKE i.number || '-%')""")).one()
    engine.dispose()
    for filing in filings:
        if not filing.acknowledged:
            problems.append(f"{filing.key} never acknowledged: {filing.answers} {filing.problems}")
            continue
        stored = by_key.get(filing.key)
        if stored is None:
            problems.append(f"{filing.key} acknowledged as incident {filing.incident_id} but not stored")
        elif stored[:2] != (filing.incident_id, filing.number):
            problems.append(f"{filing.key} answered {filing.incident_id} {filing.number}, stored {stored[:2]}")
        elif stored[2] != filing.persons:
            problems.append(f"{filing.key}: {stored[2]} of its {filing.persons} persons stored")
    if keys_per_incident:
        problems.append(f"{keys_per_incident} incidents stored for more than one key")
    for count, what in zip(half_stored, ("incidents without all their cases", "cases without their timeline",
                                         "cases without their deadlines", "provisional or mismatched numbers")):
        if count:
            problems.append(f"{count} {what}")
    return problems


def tally(filings: list[Filing]) -> dict[str, int]:
    """The run's figures: sent, acknowledged, stored, and what became of the tries that got no answer."""
    retried = [f for f in filings if f.lost]
    return {
        "filings sent": len(filings),
        "acknowledged": sum(f.acknowledged for f in filings),
        "acknowledged at the first try": sum(f.acknowledged and len(f.answers) == 1 and not f.refused
                                             for f in filings),
        "tries that got no answer": sum(f.lost for f in filings),
        "connections refused (server down)": sum(f.refused for f in filings),
        "filings retried after a lost answer": len(retried),
        "of them already stored (200 replayed)": sum(f.answers[-1] == 200 for f in retried),
        "of them stored by the retry (201)": sum(f.answers[-1] == 201 for f in retried),
    }
