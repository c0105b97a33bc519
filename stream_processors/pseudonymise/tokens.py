"""Tokens of one cleaned person record, for comparison and (in the resolver) blocking.

Comparison tokens stand for single values (NHS number, first given name, family name core,
their phonetic codes, date of birth and its variants, postcode levels, shared identifiers).
Blocking keys are not made here: the resolver derives them from these tokens by the blocking
rules of its linkage configuration (``stream_processors.resolve.blocking``), so a rule can
change without pseudonymising anything again.

``gname``, ``fname`` and ``fname_alt`` (former family names) are made with one shared key, so
the resolver can see a given name recorded as a family name and a surname change.
``given_near`` and ``family_near`` are the names' one-edit variants (the name with one
character deleted, and the name itself; one shared key): two names one substitution,
insertion, deletion or adjacent transposition apart share one, so the resolver sees a typo
as Splink's Damerau-Levenshtein level would, without the names. ``given_self`` and
``family_self`` are the names themselves under that key: the resolver sees one name among the
other's deletions (a letter dropped or doubled), which a changed letter (Ava, Eva) is not.
``fcanon`` is the family field's first part with a short form expanded, under ``gcanon``'s
key: a given name written in the family field (family name first) still meets its short form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import jellyfish

from schemas.tokens import TokenEntry
from stream_processors import shared_ids
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.rules import DEFAULT_RULES, Rules
from stream_processors.pseudonymise.validate import CleanPerson
from stream_processors.shared_ids import one_edit_variants


def phonetic(value: str) -> str:
    return str(jellyfish.nysiis(value)) or value


def swap_free(dob: dt.date) -> str:
    low, high = sorted((dob.day, dob.month))
    return f"{dob.year}-{low:02d}-{high:02d}"


def _shared_values(clean: CleanPerson, rules: Rules) -> Iterator[tuple[str, str]]:
    """Tokens of the shared identifier schemes (see ``stream_processors.shared_ids``)."""
    for name, values in sorted(clean.shared.items()):
        scheme = rules.shared[name]
        for value in values:
            yield shared_ids.value_kind(name, scheme.unique), value
            if scheme.near:
                near = shared_ids.near_kind(name, scheme.unique)
                for variant in sorted(shared_ids.one_edit_variants(value)):
                    yield near, variant


def _values(clean: CleanPerson) -> Iterator[tuple[str, str]]:
    """(kind, value) pairs to tokenise; values never leave this function un-hashed."""
    given = clean.given.first if clean.given else None
    family = clean.family.core if clean.family else None
    pg = phonetic(given) if given else None
    pf = phonetic(family) if family else None
    dob = clean.dob.isoformat() if clean.dob else None
    yob = str(clean.dob.year) if clean.dob else None
    district = clean.postcode.district if clean.postcode else None
    pc = clean.postcode.full if clean.postcode else None
    singles = {
        "nhs": clean.nhs,
        "upn": clean.upn,
        "given": given,
        "given_all": clean.given.full if clean.given else None,
        "given_ph": pg,
        "family": family,
        "family_ph": pf,
        "dob": dob,
        "dob_ym": dob[:7] if dob else None,
        "yob": yob,
        "dob_swap": swap_free(clean.dob) if clean.dob else None,
        "postcode": pc,
        "sector": clean.postcode.sector if clean.postcode else None,
        "district": district,
    }
    for kind, value in singles.items():
        if value:
            yield kind, value
    if given:  # name tokens share one key, so a name in the wrong field still matches
        yield "gname", given
        yield "gcanon", clean.given.canonical_first  # type: ignore[union-attr]
        yield "given_self", given
        for variant in sorted(one_edit_variants(given)):
            yield "given_near", variant
    if family:
        yield "fname", family
        yield "fname_first", clean.family.first  # type: ignore[union-attr]
        yield "fcanon", clean.family.canonical_first  # type: ignore[union-attr]
        yield "family_self", family
        for variant in sorted(one_edit_variants(family)):
            yield "family_near", variant
    if clean.dob:  # one-edit variants of the date's digits: a typed-wrong digit is seen
        for variant in sorted(one_edit_variants(clean.dob.strftime("%Y%m%d"))):
            yield "dob_near", variant
    for former in clean.former:
        yield "fname_alt", former.core


SHARED_KEYS = {"gname": "name", "fname": "name", "fname_alt": "name", "fname_first": "name"}
SHARED_KEYS |= {"given_near": "name_near", "family_near": "name_near"}  # one edit, either field
SHARED_KEYS |= {"given_self": "name_near", "family_self": "name_near"}  # which edit it was
SHARED_KEYS |= {"fcanon": "gcanon"}  # a short form recorded in the family field (family first)


def person_tokens(
    clean: CleanPerson,
    keyring: Keyring,
    rules: Rules = DEFAULT_RULES,
    versions: tuple[int, ...] = (1,),
) -> list[TokenEntry]:
    """The tokens of a cleaned person, (kind, token, key version) (deduplicated, stable
    order), under each of ``versions`` (two while keys rotate: ``earlylink keys rotate``)."""
    seen: set[tuple[str, str]] = set()
    tokens = []
    for kind, value in (*_values(clean), *_shared_values(clean, rules)):
        if (kind, value) in seen:
            continue
        seen.add((kind, value))
        key = SHARED_KEYS.get(kind, kind)
        token, made_under = keyring.token(key, value, versions[0]), versions[0]
        for version in versions:
            if version != made_under:
                token, made_under = keyring.lift(key, token, made_under, version), version
            tokens.append((kind, token, version))
    return tokens
