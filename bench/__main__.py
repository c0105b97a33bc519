"""Run every benchmark in turn (each prints its markdown table)."""

import sys

from bench import producer_throughput, pseudonymise_throughput, resolver_scaling

sys.argv = sys.argv[:1]
producer_throughput.main()
pseudonymise_throughput.main()
resolver_scaling.main()
