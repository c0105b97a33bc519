"""Run every benchmark in turn (each prints its markdown table)."""

from bench import producer_throughput

producer_throughput.main()
