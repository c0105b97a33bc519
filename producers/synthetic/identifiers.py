"""Synthetic identifiers: NHS numbers from the range reserved for testing, UPNs, postcodes.

NHS numbers start 999, a range the NHS never issues, so no synthetic number can be a real one.
"""

from __future__ import annotations

import random

NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # the DfE alphabet (no I, O, S)

# Postcode districts of an inner-London borough and their sectors.
DISTRICTS: dict[str, tuple[int, ...]] = {
    "SE11": (4, 5, 6),
    "SE1": (7,),
    "SE5": (8, 9),
    "SE24": (0, 9),
    "SE27": (0, 9),
    "SW2": (1, 2, 3, 5),
    "SW4": (0, 6, 7, 9),
    "SW8": (1, 2, 4),
    "SW9": (0, 6, 7, 8, 9),
    "SW16": (1, 2, 5, 6),
}
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
STREETS = (
    "Kennington Road",
    "Brixton Hill",
    "Acre Lane",
    "Stockwell Road",
    "Clapham Road",
    "Railton Road",
    "Coldharbour Lane",
    "Tulse Hill",
    "Norwood Road",
    "Streatham High Road",
    "Loughborough Road",
    "Wandsworth Road",
    "Landor Road",
    "Ferndale Road",
    "Vassall Road",
)
BLOCKS = (
    "Ashmole House",
    "Cotton Gardens",
    "Vauxhall Gardens Estate",
    "Myatts Field",
    "Angell Town",
    "Loughborough Estate",
    "Tulse Hill Estate",
    "Stockwell Park",
)


def nhs_check_digit(nine: str) -> int | None:
    """The modulus-11 check digit of nine digits, or None when no valid digit exists."""
    total = sum(int(d) * w for d, w in zip(nine, NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def nhs_number(rng: random.Random) -> str:
    """A valid NHS number from the test range 999 xxx xxxx."""
    while True:
        nine = "999" + "".join(rng.choice("0123456789") for _ in range(6))
        check = nhs_check_digit(nine)
        if check is not None:
            return nine + str(check)


def upn(rng: random.Random, la_code: str = "208") -> str:
    """A unique pupil number: check letter + LA code + school/year/serial digits."""
    body = la_code + "".join(rng.choice("0123456789") for _ in range(9))
    total = sum(int(d) * w for d, w in zip(body, range(2, 14), strict=True))
    return UPN_LETTERS[total % 23] + body


def postcode(rng: random.Random) -> str:
    district = rng.choice(sorted(DISTRICTS))
    sector = rng.choice(DISTRICTS[district])
    return f"{district} {sector}{rng.choice(UNIT_LETTERS)}{rng.choice(UNIT_LETTERS)}"


def address_line(rng: random.Random) -> str:
    if rng.random() < 0.45:
        return f"Flat {rng.randint(1, 120)}, {rng.choice(BLOCKS)}"
    return f"{rng.randint(1, 260)} {rng.choice(STREETS)}"
