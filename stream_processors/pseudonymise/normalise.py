"""Normalisation that respects real names, and canonical postcodes and dates.

Names: Unicode folded to ASCII (accents, ł, ø, ß ...), names in other scripts (Cyrillic, Arabic,
Greek, Chinese ...) transliterated to Latin letters with ``anyascii``, lower case, titles
dropped, apostrophes removed (O'Brien -> obrien), hyphens and spaces split parts, particles kept
apart from the core family name (da Silva -> core "silva"), placeholders ("Baby", "Infant of",
"Unknown") recognised as no name at all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from anyascii import anyascii

TRANSLITERATE = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "œ": "oe",
        "Œ": "OE",
        "’": "'",
        "‘": "'",
        "`": "'",
        "ʼ": "'",
    }
)
TITLES = frozenset({"mr", "mrs", "miss", "ms", "mx", "dr", "master", "prof", "rev", "sir"})
PARTICLES = frozenset(
    {
        "da",
        "de",
        "do",
        "dos",
        "das",
        "di",
        "del",
        "della",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "la",
        "le",
        "al",
        "el",
        "bin",
        "binti",
        "ibn",
        "ap",
        "ab",
        "mac",
        "mc",
        "ni",
        "nic",
        "o",
        "ua",
        "st",
    }
)
PLACEHOLDERS = frozenset(
    {
        "baby",
        "infant",
        "infant of",
        "unknown",
        "not known",
        "notknown",
        "unnamed",
        "twin",
        "twin 1",
        "twin 2",
        "twin one",
        "twin two",
        "boy",
        "girl",
        "baby boy",
        "baby girl",
        "b o",
        "bo",
        "nk",
        "na",
        "n a",
        "tbc",
        "xxx",
        "x",
    }
)
# Common short forms -> the given name they stand for (English, and short forms used in the
# borough's Yoruba, Igbo, Polish, Russian, Portuguese and Somali naming conventions).
NICKNAMES: dict[str, str] = {
    "liz": "elizabeth",
    "lizzie": "elizabeth",
    "beth": "elizabeth",
    "betty": "elizabeth",
    "eliza": "elizabeth",
    "kate": "katherine",
    "katie": "katherine",
    "kathy": "katherine",
    "cathy": "catherine",
    "becky": "rebecca",
    "becca": "rebecca",
    "jess": "jessica",
    "jessie": "jessica",
    "lottie": "charlotte",
    "charlie": "charles",
    "will": "william",
    "bill": "william",
    "billy": "william",
    "liam": "william",
    "alex": "alexander",
    "sandy": "alexander",
    "dan": "daniel",
    "danny": "daniel",
    "joe": "joseph",
    "joey": "joseph",
    "sam": "samuel",
    "sammy": "samuel",
    "ben": "benjamin",
    "benny": "benjamin",
    "ted": "edward",
    "eddie": "edward",
    "ed": "edward",
    "tom": "thomas",
    "tommy": "thomas",
    "jim": "james",
    "jimmy": "james",
    "jamie": "james",
    "mo": "mohammed",
    "moe": "mohammed",
    "mike": "michael",
    "mick": "michael",
    "rob": "robert",
    "bob": "robert",
    "bobby": "robert",
    "nick": "nicholas",
    "chris": "christopher",
    "matt": "matthew",
    "tony": "anthony",
    "maggie": "margaret",
    "meg": "margaret",
    "peggy": "margaret",
    "sue": "susan",
    "jen": "jennifer",
    "jenny": "jennifer",
    "abby": "abigail",
    "ellie": "eleanor",
    "nell": "eleanor",
    "vicky": "victoria",
    "tori": "victoria",
    "mandy": "amanda",
    "seun": "oluwaseun",
    "dami": "oluwadamilare",
    "tunde": "babatunde",
    "tope": "temitope",
    "emeka": "chukwuemeka",
    "amaka": "chiamaka",
    "femi": "oluwafemi",
    "kemi": "oluwakemi",
    "gosia": "malgorzata",
    "kasia": "katarzyna",
    "olek": "aleksander",
    "kuba": "jakub",
    "nastya": "anastasia",
    "sasha": "alexander",
    "gonca": "goncalo",
    "abdi": "abdullahi",
    # spellings of one name, so each takes the short forms of the others (Mo for Muhammad)
    "muhammad": "mohammed",
    "muhammed": "mohammed",
    "mohammad": "mohammed",
    "mohamed": "mohammed",
    "mohamad": "mohammed",
}
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
NOT_LETTERS = re.compile(r"[^a-z' -]+")


def _strip_accents(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def fold(text: str) -> str:
    """ASCII-fold: transliterate, strip accents, lower-case, collapse white space.

    Latin letters lose their accents (so "Zoë" and "Zoe" agree); what is still not ASCII after
    that (another script) is transliterated by anyascii, the same way every time, so a name
    written in Cyrillic or Arabic by two sources gives the same tokens."""
    text = text.translate(TRANSLITERATE)
    if not text.isascii():
        text = _strip_accents(text)
        if not text.isascii():
            text = anyascii(text)
    return " ".join(text.lower().split())


def in_other_script(text: str) -> bool:
    """True when ``text`` has letters outside the Latin script (they are transliterated)."""
    if text.isascii():
        return False
    stripped = _strip_accents(text.translate(TRANSLITERATE))
    return any(ord(c) > 127 and c.isalpha() for c in stripped)


@dataclass(frozen=True)
class Name:
    """A normalised name: its parts, and the core used for matching (particles apart)."""

    parts: tuple[str, ...]
    core: str  # parts without particles, joined: "da Silva" -> "silva", "O'Brien" -> "obrien"
    full: str  # every part joined: "dasilva"

    @property
    def first(self) -> str:
        return self.parts[0]

    @property
    def canonical_first(self) -> str:
        """The first part with a known short form expanded (Liz -> elizabeth)."""
        return NICKNAMES.get(self.parts[0], self.parts[0])


def normalise_name(raw: str | None, is_family: bool = False) -> Name | None:
    """A Name, or None when the value is empty or a placeholder rather than a name."""
    if raw is None:
        return None
    text = fold(raw)
    text = NOT_LETTERS.sub(" ", text)
    if " ".join(text.replace("'", " ").split()) in PLACEHOLDERS or text.startswith("infant of"):
        return None
    text = text.replace("'", "")  # O'Brien -> obrien, D'Souza -> dsouza
    parts = [p for p in re.split(r"[\s-]+", text) if p and p not in TITLES]
    if not parts or " ".join(parts) in PLACEHOLDERS or parts[0] == "baby":
        return None
    core_parts = [p for p in parts if p not in PARTICLES] if is_family else parts
    core_parts = core_parts or parts
    return Name(tuple(parts), "".join(core_parts), "".join(parts))


@dataclass(frozen=True)
class Postcode:
    """A UK postcode (district and inward code), or another country's postal code as one
    value (``inward`` empty): it then has no district or sector."""

    outward: str  # district, e.g. "SE11"; the whole code when not a UK postcode
    inward: str  # e.g. "5QY"; "" when not a UK postcode

    @property
    def full(self) -> str:
        return f"{self.outward} {self.inward}" if self.inward else self.outward

    @property
    def sector(self) -> str | None:
        return f"{self.outward} {self.inward[0]}" if self.inward else None

    @property
    def district(self) -> str | None:
        return self.outward if self.inward else None


OTHER_POSTAL_CODE = re.compile(r"^[A-Z0-9]{3,10}$")


def normalise_postcode(raw: str | None, uk_only: bool = True) -> Postcode | None:
    """Canonical UK postcode, or None when it is not one (any case or spacing accepted). With
    ``uk_only`` off, a postal code of another country (3 to 10 letters and digits once spaces
    and hyphens are gone) is kept whole."""
    if raw is None:
        return None
    compact = re.sub(r"\s+", "", raw).upper()
    match = POSTCODE.match(compact)
    if match:
        return Postcode(match[1], match[2])
    if uk_only:
        return None
    other = compact.replace("-", "")
    return Postcode(other, "") if OTHER_POSTAL_CODE.match(other) else None
