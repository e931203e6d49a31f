"""Reading the routing rules for review by an admin."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from kia.access import Actor
from kia.errors import N_, Forbidden, Msg
from kia.routing.models import RoutingRule


def list_routing_rules(session: Session, actor: Actor) -> list[RoutingRule]:
    if not actor.is_config_admin():
        raise Forbidden(Msg(N_("Only an administrator of the whole organisation reviews routing rules.")))
    return list(session.scalars(select(RoutingRule).options(joinedload(RoutingRule.incident_type),
                                                            joinedload(RoutingRule.org_unit))
                                .order_by(RoutingRule.active.desc(), RoutingRule.purpose, RoutingRule.id)))
