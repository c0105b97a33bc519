"""earlylink: near-real-time, privacy-preserving linkage of early-years service data.

The application package: command line, settings, errors and the local stack. The data flow lives
in the sibling packages ``schemas`` (contracts), ``producers`` (service side),
``stream_processors`` (pseudonymise, resolve) and ``sink`` (PostgreSQL).
"""

__version__ = "0.1.0"
