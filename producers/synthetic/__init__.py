"""A synthetic borough with ground truth: families, the services that record them, and the
events those services publish over time, with the recording realities of early-years data.

Deterministic by seed. The truth (true person and family of each record) goes to its own file,
never into events.
"""
