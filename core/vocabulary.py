"""Names the stages share: what the pseudonymiser validates and the quality figures count."""

from __future__ import annotations

# the identifying fields of a person record, in the order of the ledger's completeness bits
# (bit i set: FIELDS[i] was usable)
FIELDS = (
    "nhs_number",
    "unique_pupil_number",
    "given_names",
    "family_name",
    "date_of_birth",
    "postcode",
    "address_line",
    "locality",  # PersonRecord v3
)

# the header a replayed dead letter carries (``earlylink deadletter replay``): the letter's
# position, "<dead-letter topic>:<partition>:<offset>"; the pseudonymiser's ledger keeps it
REPLAYED_FROM = "replayed-from"
