"""Events over time: each service records the people it reaches, then publishes their records,
updates (renames, moves, surname changes), contacts, outcomes, consent changes and retractions.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from producers.synthetic.population import (
    WINDOW_END,
    WINDOW_START,
    Family,
    TruePerson,
    build_population,
)
from producers.synthetic.recording import Noise, View, choose_noise, view
from producers.synthetic.services import SERVICES, Service
from schemas.models import (
    ConsentChange,
    ConsentReason,
    ConsentState,
    Envelope,
    Event,
    OutcomeMeasure,
    PersonRecord,
    RecordRetraction,
    RelatedRecord,
    Relationship,
    RetractionReason,
    Role,
    ServiceContact,
)

EVENT_NAMESPACE = uuid.UUID("6f1c3c59-7a59-4d1e-9c55-0e7f3d7d2a10")
PERSON_RECORD_VERSION = 2  # the contract version producers write


@dataclass
class RecordPlan:
    """One service's record of one true person, and everything it will publish."""

    service: Service
    record_id: str
    person: TruePerson
    family: Family
    noise: Noise
    first_seen: dt.date
    contacts: list[dt.date]
    flags: list[str] = field(default_factory=list)
    mother_record_id: str | None = None


@dataclass
class TruthRow:
    source_system: str
    record_id: str
    person_id: str
    family_id: str
    role: str
    twin_of: str | None
    flags: str
    mother_id: str | None = None


def _clamp(day: dt.date) -> dt.date:
    return min(max(day, WINDOW_START), WINDOW_END)


class BoroughGenerator:
    """Plans records for every family and service, then yields events in time order."""

    def __init__(self, families: int, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.families = build_population(families, self.rng)
        self.plans: list[RecordPlan] = []
        self._record_counter = 0
        self._events: list[Event] | None = None
        for family in self.families:
            for service in SERVICES:
                self._plan_family(service, family)

    # ------------------------------------------------------------------ planning

    def _record_id(self, service: Service) -> str:
        self._record_counter += 1
        return f"{service.code[:3].upper()}{self.rng.randrange(16**6):06x}{self._record_counter}"

    def _plan_family(self, service: Service, family: Family) -> None:
        rng = self.rng
        p_family = max(service.reach_children, service.reach_mothers, service.reach_partners)
        if p_family == 0 or rng.random() >= p_family:
            return
        mother, *partners = family.adults
        mother_plan = None
        if rng.random() < service.reach_mothers / p_family:
            mother_plan = self._plan(service, family, mother, self._adult_start(family))
        for partner in partners:
            if rng.random() < service.reach_partners / p_family:
                self._plan(service, family, partner, self._adult_start(family))
        for child in family.children:
            if rng.random() < service.reach_children / p_family:
                plan = self._plan_child(service, family, child)
                if plan is not None and mother_plan is not None:
                    plan.mother_record_id = mother_plan.record_id

    def _plan_child(self, service: Service, family: Family, child: TruePerson) -> RecordPlan | None:
        """A child's record, first seen after birth (and the service's minimum age)."""
        if service.code == "maternity-births":
            start = child.dob
            if not WINDOW_START <= start <= WINDOW_END:
                return None  # born before the window: not in this births feed
        else:
            start = child.dob + dt.timedelta(
                days=service.min_child_age_days + self.rng.randint(0, 400)
            )
        if start > WINDOW_END:
            return None
        return self._plan(service, family, child, _clamp(start))

    def _adult_start(self, family: Family) -> dt.date:
        children = family.children
        if children:
            anchor = self.rng.choice(children).dob - dt.timedelta(days=self.rng.randint(0, 200))
            return _clamp(anchor + dt.timedelta(days=self.rng.randint(0, 500)))
        return WINDOW_START + dt.timedelta(days=self.rng.randint(0, 2000))

    def _plan(
        self, service: Service, family: Family, person: TruePerson, first_seen: dt.date
    ) -> RecordPlan:
        rng = self.rng
        n = rng.randint(*service.contacts)
        contacts = sorted(
            _clamp(first_seen + dt.timedelta(days=rng.randint(0, 365))) for _ in range(n)
        )
        plan = RecordPlan(
            service,
            self._record_id(service),
            person,
            family,
            choose_noise(rng, service, person),
            first_seen,
            contacts,
        )
        self.plans.append(plan)
        return plan

    # ------------------------------------------------------------------ events

    def _envelope(self, plan: RecordPlan, day: dt.date, seq: str, version: int = 1) -> Envelope:
        rng = random.Random(f"{self.seed}|{plan.record_id}|{seq}")
        moment = dt.datetime.combine(
            day, dt.time(8 + rng.randrange(10), rng.randrange(60), rng.randrange(60)), tzinfo=dt.UTC
        )
        event_id = uuid.uuid5(EVENT_NAMESPACE, f"{self.seed}|{plan.record_id}|{seq}")
        return Envelope(
            event_id=event_id,
            event_time=moment,
            source_system=plan.service.code,
            schema_version=version,
        )

    def _person_event(
        self, plan: RecordPlan, day: dt.date, version: int, shown: View
    ) -> PersonRecord:
        person = plan.person
        related = []
        if plan.mother_record_id:
            related = [
                RelatedRecord(relationship=Relationship.MOTHER, record_id=plan.mother_record_id)
            ]
        return PersonRecord(
            envelope=self._envelope(plan, day, f"v{version}", PERSON_RECORD_VERSION),
            record_id=plan.record_id,
            record_version=version,
            role=person.role,
            nhs_number=shown.nhs_number,
            unique_pupil_number=shown.unique_pupil_number,
            given_names=shown.given_names,
            family_name=shown.family_name,
            former_family_names=shown.former_family_names,
            date_of_birth=shown.date_of_birth,
            sex=person.sex,
            address_line=shown.address_line,
            postcode=shown.postcode,
            related=related,
            consent=ConsentState.OPTED_OUT if person.opted_out else ConsentState.PERMITTED,
        )

    def _versions(self, plan: RecordPlan) -> Iterator[tuple[dt.date, bool]]:
        """(day, placeholder) for each version of the record: first entry, then re-entries."""
        person, service = plan.person, plan.service
        last = plan.contacts[-1] if plan.contacts else plan.first_seen
        placeholder = (
            service.placeholder_babies
            and person.role is Role.CHILD
            and plan.first_seen - person.dob < dt.timedelta(days=14)
            and self.rng.random() < 0.7
        )
        yield plan.first_seen, placeholder
        changes: list[dt.date] = []
        if placeholder:
            plan.flags.append("renamed_baby")
            changes.append(plan.first_seen + dt.timedelta(days=self.rng.randint(10, 60)))
        moves = [a.since for a in plan.family.addresses[1:] if plan.first_seen < a.since <= last]
        if moves:
            plan.flags.append("moved")
        changed = person.surname_changed_on
        if changed and plan.first_seen < changed <= last:
            plan.flags.append("surname_changed")
            changes.append(changed)
        for day in sorted(set(changes + moves)):
            yield _clamp(day), False

    def events_for(self, plan: RecordPlan) -> Iterator[Event]:
        versions = list(self._versions(plan))
        plan.flags.extend(plan.noise.flags())
        if plan.person.opted_out:
            plan.flags.append("opted_out")
        for number, (day, placeholder) in enumerate(versions, start=1):
            shown = view(plan.person, plan.family, plan.service, plan.noise, day, placeholder)
            yield self._person_event(plan, day, number, shown)
        yield from self._contacts(plan)
        yield from self._outcomes(plan)
        yield from self._consent_and_retraction(plan)

    def _contacts(self, plan: RecordPlan) -> Iterator[Event]:
        service = plan.service
        for i, day in enumerate(plan.contacts):
            yield ServiceContact(
                envelope=self._envelope(plan, day, f"c{i}"),
                contact_id=f"{plan.record_id}-c{i}",
                person_record_id=plan.record_id,
                service_code=service.code,
                activity_code=service.activities[i % len(service.activities)],
                contact_type=service.contact_type,
                contact_date=day,
                location_code=f"{service.code[:3].upper()}-SITE-{i % 3 + 1}",
                duration_minutes=30 + 15 * (i % 4),
            )

    def _outcomes(self, plan: RecordPlan) -> Iterator[Event]:
        rng = random.Random(f"{self.seed}|{plan.record_id}|outcomes")
        child = plan.person.role is Role.CHILD
        for tool in plan.service.outcome_tools:
            if (tool == "WEMWBS") == child:
                continue
            days = (
                [plan.contacts[0], plan.contacts[-1]]
                if len(plan.contacts) > 1
                else plan.contacts[:1]
            )
            base = rng.uniform(35, 50) if tool == "WEMWBS" else rng.uniform(20, 45)
            for i, day in enumerate(days):
                score = round(base + i * rng.uniform(0, 8), 1)
                yield OutcomeMeasure(
                    envelope=self._envelope(plan, day, f"o{tool}{i}"),
                    measure_id=f"{plan.record_id}-{tool}-{i}",
                    person_record_id=plan.record_id,
                    tool_code=tool,
                    domain="communication" if tool == "ASQ3" else None,
                    score=score,
                    measured_on=day,
                )

    def _consent_and_retraction(self, plan: RecordPlan) -> Iterator[Event]:
        rng = random.Random(f"{self.seed}|{plan.record_id}|consent")
        later = _clamp(plan.contacts[-1] + dt.timedelta(days=rng.randint(1, 120)))
        if not plan.person.opted_out and rng.random() < 0.005:
            plan.flags.append("withdrew_consent")
            yield ConsentChange(
                envelope=self._envelope(plan, later, "consent"),
                person_record_id=plan.record_id,
                new_state=ConsentState.WITHDRAWN,
                reason=ConsentReason.PERSON_REQUEST,
            )
        elif rng.random() < 0.002:
            plan.flags.append("retracted")
            yield RecordRetraction(
                envelope=self._envelope(plan, later, "retract"),
                record_id=plan.record_id,
                reason=RetractionReason.ENTERED_IN_ERROR,
            )

    def events(self) -> list[Event]:
        """Every event of every record, in event-time order (ties broken by event id).

        Made once: generating draws from the seeded generator and marks the plans' flags, so a
        second pass would give other events and the truth would count flags twice."""
        if self._events is None:
            everything = [event for plan in self.plans for event in self.events_for(plan)]
            everything.sort(key=lambda e: (e.envelope.event_time, str(e.envelope.event_id)))
            self._events = everything
        return self._events

    def truth(self) -> Iterator[TruthRow]:
        """The true person and family of every record, with what was done to it (its flags,
        known once the events are made, so this makes them first)."""
        self.events()
        for plan in self.plans:
            yield TruthRow(
                plan.service.code,
                plan.record_id,
                plan.person.person_id,
                plan.family.family_id,
                plan.person.role.value,
                plan.person.twin_of,
                ";".join(sorted(set(plan.flags))),
                plan.person.mother_id,
            )
