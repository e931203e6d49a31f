"""The e-mail method through the e-mail channel to a real SMTP server (aiosmtpd), and owners as data: the units
they own, inherited down the tree, and an admin's checks."""
import pytest
from sqlalchemy import select

from kia.errors import Forbidden, ValidationFailed
from kia.outbox.models import DeliveryStatus, Notification
from kia.property.models import FaultReportStatus
from kia.property.owners import change_owner, create_owner, owner_of
from notifications.dispatcher import dispatch
from tests.notifications.conftest import smtp, smtp_port, smtp_settings  # noqa: F401 – the real SMTP fixtures
from tests.property.conftest import FAULT, NOW, PLACE, file_building_case, send


def test_the_email_method_sends_one_rendered_mail(db, session_factory, smtp, smtp_settings,  # noqa: F811
                                                  make, city_admin, handler):
    create_owner(db, city_admin, {"name": "Skolfastigheter AB", "method": "email",
                                  "email": "felanmalan@skolfastigheter.example.se", "units": ["S1"]})
    case = file_building_case(db, make, "property_damage")
    report = send(db, handler, case)

    dispatch(session_factory, smtp_settings, NOW)
    dispatch(session_factory, smtp_settings, NOW.replace(hour=12))

    [mail] = smtp.to("felanmalan@skolfastigheter.example.se")
    body = mail.get_content()
    assert mail["Subject"] == f"Felanmälan från Skola Ett ({case.number})"
    assert PLACE in body and FAULT in body and "Brådskande" in body
    assert "Rök i korridoren" not in body          # the event's own description stays in KIA
    db.refresh(report)
    assert report.status == FaultReportStatus.SENT and report.service_request_id is None
    row = db.scalar(select(Notification).where(Notification.fault_report_id == report.id))
    assert row.status == DeliveryStatus.SENT


def test_a_unit_has_its_own_owner_or_its_nearest_ancestors(db, tree, city_admin):
    city_wide = create_owner(db, city_admin, {"name": "Stadens fastigheter", "method": "email",
                                              "email": "fel@stad.example.se", "units": ["STHLM"]})
    sisab = create_owner(db, city_admin, {"name": "SISAB", "method": "open311",
                                          "endpoint_url": "https://open311.sisab.example.se/v2", "units": ["GRU"]})
    assert owner_of(db, tree["S1"]) == sisab
    assert owner_of(db, tree["F1"]) == city_wide
    change_owner(db, city_admin, sisab.id, {"active": False})
    assert owner_of(db, tree["S1"]) is None        # an inactive owner takes no reports (nor passes them upwards)


def test_an_admin_is_told_what_is_wrong(db, tree, city_admin, make):
    with pytest.raises(ValidationFailed) as error:
        create_owner(db, city_admin, {"name": "", "method": "open311", "endpoint_url": "ftp://x", "units": ["NOPE"]})
    assert set(error.value.errors) == {"name", "endpoint_url", "units[0]"}
    with pytest.raises(ValidationFailed) as error:
        create_owner(db, city_admin, {"name": "Post", "method": "email", "email": "inte-en-adress"})
    assert set(error.value.errors) == {"email"}
    create_owner(db, city_admin, {"name": "A", "method": "email", "email": "a@example.se", "units": ["S1"]})
    with pytest.raises(ValidationFailed) as error:
        create_owner(db, city_admin, {"name": "B", "method": "email", "email": "b@example.se", "units": ["S1"]})
    assert set(error.value.errors) == {"units[0]"}
    with pytest.raises(Forbidden):
        create_owner(db, make.actor(("admin", "UTBF")), {"name": "C", "method": "email", "email": "c@example.se"})


def test_the_api_key_stays_when_a_change_leaves_it_out(db, tree, city_admin):
    owner = create_owner(db, city_admin, {"name": "SISAB", "method": "open311", "api_key": "first",
                                          "endpoint_url": "https://open311.sisab.example.se/v2"})
    change_owner(db, city_admin, owner.id, {"name": "SISAB AB", "api_key": ""})
    assert (owner.name, owner.api_key) == ("SISAB AB", "first")
    change_owner(db, city_admin, owner.id, {"api_key": "second"})
    assert owner.api_key == "second"
