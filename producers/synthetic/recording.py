"""How a service writes a true person into its own record: the noise of real data entry.

Noise is decided once per record (a typo entered stays until the record is re-keyed) and is
listed in the record's flags, which go to the ground truth only.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, field

from producers.synthetic.identifiers import nhs_check_digit
from producers.synthetic.names import NICKNAMES
from producers.synthetic.population import Family, TruePerson
from producers.synthetic.services import Service
from schemas.models import Role

KEYBOARD_NEIGHBOURS = {
    "a": "sq",
    "e": "wr",
    "i": "uo",
    "o": "ip",
    "n": "bm",
    "m": "n",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "l": "k",
    "h": "gj",
    "c": "xv",
}


@dataclass
class Noise:
    """The recording choices fixed for one record."""

    typo_given: bool = False
    typo_family: bool = False
    nickname: bool = False
    first_given_only: bool = False
    strip_accents: bool = False
    family_name_first: bool = False
    swap_day_month: bool = False
    missing_dob: bool = False
    missing_postcode: bool = False
    postcode_style: str = "canonical"  # canonical | lower | nospace
    has_nhs: bool = False
    invalid_nhs: bool = False
    seed: int = 0

    def flags(self) -> list[str]:
        return sorted(k for k, v in vars(self).items() if v is True)


def choose_noise(rng: random.Random, service: Service, person: TruePerson) -> Noise:
    typo = rng.random() < service.typo * 2
    community = service.kind == "community"
    return Noise(
        typo_given=typo and rng.random() < 0.5,
        typo_family=typo and rng.random() >= 0.5,
        nickname=rng.random() < service.nickname and person.given_names[0] in NICKNAMES,
        first_given_only=len(person.given_names) > 1 and rng.random() < 0.5,
        strip_accents=rng.random() < (0.4 if community else 0.1),
        family_name_first=rng.random() < person.tradition.family_name_first * 0.5,
        swap_day_month=rng.random() < service.swap_day_month,
        missing_dob=rng.random() < service.missing_dob,
        missing_postcode=rng.random() < service.missing_postcode,
        postcode_style=rng.choice(("lower", "nospace")) if rng.random() < 0.15 else "canonical",
        has_nhs=rng.random() < service.nhs,
        invalid_nhs=service.nhs > 0 and rng.random() < 0.004,
        seed=rng.randrange(2**31),
    )


def _typo(value: str, rng: random.Random) -> str:
    if len(value) < 3:
        return value
    i = rng.randrange(1, len(value) - 1)
    kind = rng.random()
    if kind < 0.35:  # transposition
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    if kind < 0.6:  # deletion
        return value[:i] + value[i + 1 :]
    if kind < 0.8:  # doubled letter
        return value[:i] + value[i] + value[i:]
    near = KEYBOARD_NEIGHBOURS.get(value[i].lower(), "e")
    return value[:i] + rng.choice(near) + value[i + 1 :]


def _ascii(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value)
    return "".join(c for c in folded if not unicodedata.combining(c)).replace("ł", "l")


def _postcode(value: str, style: str) -> str:
    if style == "lower":
        return value.lower()
    if style == "nospace":
        return value.replace(" ", "")
    return value


def _nhs(value: str, noise: Noise, rng: random.Random) -> str | None:
    if not noise.has_nhs:
        return None
    if not noise.invalid_nhs:
        return value
    for _ in range(20):  # change one digit so the check digit fails
        i = rng.randrange(3, 9)  # keep the 999 test-range prefix
        candidate = value[:i] + str((int(value[i]) + rng.randint(1, 9)) % 10) + value[i + 1 :]
        if nhs_check_digit(candidate[:9]) != int(candidate[9]):
            return candidate
    return value


@dataclass
class View:
    """The identifying fields as one record shows them at one version."""

    given_names: str | None
    family_name: str | None
    former_family_names: list[str] = field(default_factory=list)
    date_of_birth: dt.date | None = None
    nhs_number: str | None = None
    unique_pupil_number: str | None = None
    address_line: str | None = None
    postcode: str | None = None


def view(
    person: TruePerson,
    family: Family,
    service: Service,
    noise: Noise,
    day: dt.date,
    placeholder: bool,
) -> View:
    """What the record says about ``person`` when (re-)entered on ``day``."""
    rng = random.Random(noise.seed)
    given = person.given_names[:1] if noise.first_given_only else person.given_names
    given_text = " ".join(given)
    if noise.nickname:
        given_text = rng.choice(NICKNAMES[person.given_names[0]])
    family_name = person.family_name_on(day)
    if noise.typo_given:
        given_text = _typo(given_text, rng)
    if noise.typo_family:
        family_name = _typo(family_name, rng)
    if noise.strip_accents:
        given_text, family_name = _ascii(given_text), _ascii(family_name)
    if placeholder:
        given_text = "Baby" if rng.random() < 0.8 else "Infant of"
    former = (
        [person.former_family_name]
        if (
            person.former_family_name
            and person.family_name_on(day) != person.former_family_name
            and rng.random() < 0.5
        )
        else []
    )
    dob: dt.date | None = person.dob
    if noise.missing_dob:
        dob = None
    elif noise.swap_day_month and person.dob.day <= 12 and person.dob.day != person.dob.month:
        dob = person.dob.replace(day=person.dob.month, month=person.dob.day)
    address = family.address_on(day)
    if noise.family_name_first and not placeholder:
        given_text, family_name = family_name, given_text
    return View(
        given_names=given_text,
        family_name=family_name,
        former_family_names=former,
        date_of_birth=dob,
        nhs_number=_nhs(person.nhs, noise, rng),
        unique_pupil_number=person.upn if service.upn and person.role is Role.CHILD else None,
        address_line=address.line,
        postcode=None
        if noise.missing_postcode
        else _postcode(address.postcode, noise.postcode_style),
    )
