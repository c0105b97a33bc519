"""Benchmarks that print markdown tables (``make bench`` runs them all)."""
