"""Stage 1: validate, normalise, consent gate, pseudonymise. Pure functions; no I/O here.

After this stage no raw identifier exists: names, dates of birth, NHS numbers, pupil numbers,
addresses, postcodes and the sources' own record ids become keyed tokens and hardened
Bloom-filter encodings.
"""
