"""Limits every event must keep to, whatever its contract allows: sizes, list lengths,
versions and timestamps. Checked at the pseudonymiser (events past them are dead-lettered or
their field is left out), relied on by the stages and the store after it."""

from __future__ import annotations

MAX_MESSAGE_BYTES = 256 * 1024  # a raw event; the largest real record is a few KiB
MAX_OUTPUT_BYTES = 512 * 1024  # a pseudonymised event, as forwarded
MAX_ID_CHARS = 200  # a source's record, contact or measure id
MAX_CODE_CHARS = 100  # service, activity, location, tool and domain codes; source names
MAX_LIST_ITEMS = {"former_family_names": 20, "related": 50, "local_ids": 20}
FINAL_VERSION = 2**62  # the version of a withdrawn or retracted record: no later version applies
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last a datetime holds
