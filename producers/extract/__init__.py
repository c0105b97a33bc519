"""Import of a service's extract (CSV or JSON lines) through a mapping file into events.

``rows`` reads the file, ``mapping`` loads and checks the mapping file, ``convert`` turns one
row into one event, ``profile`` counts what the pipeline would receive (``--check``) and
``importer`` runs the check and the import. See docs/onboarding.md.
"""

from producers.extract.convert import Converted, convert, event_id_for, map_row
from producers.extract.importer import ImportResult, Rejected, check_extract, import_extract
from producers.extract.mapping import FieldRule, Mapping, load_mapping
from producers.extract.profile import Profile
from producers.extract.rows import columns_of, rows_of

__all__ = [
    "Converted",
    "FieldRule",
    "ImportResult",
    "Mapping",
    "Profile",
    "Rejected",
    "check_extract",
    "columns_of",
    "convert",
    "event_id_for",
    "import_extract",
    "load_mapping",
    "map_row",
    "rows_of",
]
