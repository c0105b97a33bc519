"""Avro contracts of earlylink's events (``avro/*.avsc``), their catalogue and wire encoding.

Shared named types (``Envelope``, ``ConsentState``) have unversioned files; each event type has one
file per version, ``<Type>.v<N>.avsc``. Every newer version must stay backward compatible with
the older ones (checked in tests by Avro schema resolution).
"""
