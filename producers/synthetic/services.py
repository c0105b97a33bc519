"""The borough's service and administrative systems, and how each records people.

Reach is the share of eligible people a service records; ``nhs`` the share of its records that
carry an NHS number (health services mostly); noise rates describe its data entry. The services
themselves are data: ``services.yaml``, one entry per service.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import yaml

from schemas.models import ContactType


@dataclass(frozen=True)
class Service:
    code: str
    kind: str  # health | admin | education | community
    reach_children: float
    reach_mothers: float
    reach_partners: float
    nhs: float
    contact_type: ContactType
    activities: tuple[str, ...]
    contacts: tuple[int, int] = (1, 3)
    upn: bool = False
    placeholder_babies: bool = False  # records newborns as "Baby <surname>" first
    typo: float = 0.03
    nickname: float = 0.05
    swap_day_month: float = 0.01
    missing_dob: float = 0.01
    missing_postcode: float = 0.03
    outcome_tools: tuple[str, ...] = ()
    min_child_age_days: int = 0


def load_services(text: str) -> tuple[Service, ...]:
    """Services from the YAML table (a list of mappings; a field left out takes its default)."""
    services = []
    for row in yaml.safe_load(text):
        given = dict(row)
        given["contact_type"] = ContactType(given["contact_type"])
        for name in ("activities", "outcome_tools"):
            if name in given:
                given[name] = tuple(given[name])
        if "contacts" in given:
            low, high = given["contacts"]
            given["contacts"] = (int(low), int(high))
        services.append(Service(**given))
    return tuple(services)


SERVICES = load_services(
    resources.files("producers.synthetic").joinpath("services.yaml").read_text()
)
SERVICE_BY_CODE = {s.code: s for s in SERVICES}
