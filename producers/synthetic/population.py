"""The true population: families, their members and their life events (the ground truth)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from producers.synthetic.identifiers import address_line, nhs_number, postcode, upn
from producers.synthetic.names import TRADITIONS, Tradition
from schemas.models import Role, Sex

WINDOW_START = dt.date(2020, 1, 1)
WINDOW_END = dt.date(2025, 12, 31)
CHILDREN_PER_FAMILY = ((0, 0.30), (1, 0.52), (2, 0.13), (3, 0.05))  # mean 0.93, as the programme
TWIN_RATE = 0.016
REFUGES = ("Refuge, 1 Safe House Road", "Refuge, 2 Safe House Road")


@dataclass
class Address:
    line: str
    postcode: str
    since: dt.date


@dataclass
class TruePerson:
    person_id: str
    family_id: str
    role: Role
    sex: Sex
    tradition: Tradition
    given_names: list[str]
    family_name: str
    dob: dt.date
    nhs: str
    upn: str | None = None
    twin_of: str | None = None
    former_family_name: str | None = None  # before a surname change
    surname_changed_on: dt.date | None = None
    opted_out: bool = False
    mother_id: str | None = None

    def family_name_on(self, day: dt.date) -> str:
        if self.former_family_name and self.surname_changed_on and day < self.surname_changed_on:
            return self.former_family_name
        return self.family_name


@dataclass
class Family:
    family_id: str
    members: list[TruePerson]
    addresses: list[Address]

    def address_on(self, day: dt.date) -> Address:
        current = self.addresses[0]
        for address in self.addresses:
            if address.since <= day:
                current = address
        return current

    @property
    def children(self) -> list[TruePerson]:
        return [m for m in self.members if m.role is Role.CHILD]

    @property
    def adults(self) -> list[TruePerson]:
        return [m for m in self.members if m.role is not Role.CHILD]


def _pick_tradition(rng: random.Random) -> Tradition:
    return rng.choices(TRADITIONS, weights=[t.weight for t in TRADITIONS])[0]


def _given(rng: random.Random, tradition: Tradition, sex: Sex, avoid: set[str]) -> list[str]:
    pool = tradition.female if sex is Sex.FEMALE else tradition.male
    first = rng.choice([n for n in pool if n not in avoid] or list(pool))
    if rng.random() < tradition.double_given:
        return [first, rng.choice([n for n in pool if n != first])]
    return [first]


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


class PopulationBuilder:
    """Builds families deterministically from one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next_person = 0

    def _person_id(self) -> str:
        self.next_person += 1
        return f"P{self.next_person:07d}"

    def family(self, index: int) -> Family:
        rng = self.rng
        family_id = f"F{index:06d}"
        tradition = _pick_tradition(rng)
        addresses = self._addresses()
        mother = self._adult(family_id, tradition, Sex.FEMALE, Role.PARENT)
        members = [mother]
        if rng.random() < 0.55:
            sex = Sex.MALE if rng.random() < 0.95 else Sex.FEMALE
            role = Role.PARENT if rng.random() < 0.85 else Role.CARER
            partner = self._adult(
                family_id,
                tradition,
                sex,
                role,
                family_name=mother.family_name if rng.random() < 0.6 else None,
            )
            members.append(partner)
        members.extend(self._children(family_id, tradition, mother))
        return Family(family_id, members, addresses)

    def _addresses(self) -> list[Address]:
        rng = self.rng
        if rng.random() < 0.01:
            first = Address(rng.choice(REFUGES), "SW9 7ZZ", WINDOW_START)
        else:
            first = Address(address_line(rng), postcode(rng), WINDOW_START)
        addresses = [first]
        for _ in range(rng.choices((0, 1, 2), weights=(70, 24, 6))[0]):
            addresses.append(
                Address(
                    address_line(rng), postcode(rng), _date_between(rng, WINDOW_START, WINDOW_END)
                )
            )
        return sorted(addresses, key=lambda a: a.since)

    def _adult(
        self,
        family_id: str,
        tradition: Tradition,
        sex: Sex,
        role: Role,
        family_name: str | None = None,
    ) -> TruePerson:
        rng = self.rng
        person = TruePerson(
            person_id=self._person_id(),
            family_id=family_id,
            role=role,
            sex=sex,
            tradition=tradition,
            given_names=_given(rng, tradition, sex, set()),
            family_name=family_name or rng.choice(tradition.family),
            dob=_date_between(rng, dt.date(1978, 1, 1), dt.date(2004, 12, 31)),
            nhs=nhs_number(rng),
            opted_out=rng.random() < 0.02,
        )
        if sex is Sex.FEMALE and rng.random() < 0.06:  # marriage or divorce in the window
            person.former_family_name = person.family_name
            person.family_name = rng.choice(
                [n for n in tradition.family if n != person.family_name]
            )
            person.surname_changed_on = _date_between(rng, WINDOW_START, WINDOW_END)
        return person

    def _children(
        self, family_id: str, tradition: Tradition, mother: TruePerson
    ) -> list[TruePerson]:
        rng = self.rng
        count = rng.choices(
            [c for c, _ in CHILDREN_PER_FAMILY], weights=[w for _, w in CHILDREN_PER_FAMILY]
        )[0]
        children: list[TruePerson] = []
        while len(children) < count:
            dob = _date_between(rng, dt.date(2018, 1, 1), dt.date(2025, 9, 30))
            twins = 2 if rng.random() < TWIN_RATE and len(children) + 2 <= count + 1 else 1
            names_used = {n for c in children for n in c.given_names}
            first: TruePerson | None = None
            for _ in range(twins):
                sex = Sex.FEMALE if rng.random() < 0.49 else Sex.MALE
                child = TruePerson(
                    person_id=self._person_id(),
                    family_id=family_id,
                    role=Role.CHILD,
                    sex=sex,
                    tradition=tradition,
                    given_names=_given(rng, tradition, sex, names_used),
                    family_name=mother.family_name,
                    dob=dob,
                    nhs=nhs_number(rng),
                    upn=upn(rng) if dob < dt.date(2023, 6, 1) else None,
                    opted_out=mother.opted_out,
                    mother_id=mother.person_id,
                    twin_of=first.person_id if first else None,
                )
                if first is not None:
                    first.twin_of = child.person_id
                first = first or child
                names_used.update(child.given_names)
                children.append(child)
        return children


def build_population(families: int, rng: random.Random) -> list[Family]:
    builder = PopulationBuilder(rng)
    return [builder.family(i + 1) for i in range(families)]
