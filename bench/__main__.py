"""Run every benchmark in turn (each prints its markdown table): the machine's ceilings first,
then each stage, then the pipeline end to end; at the end, one table of the headline figures
against the targets."""

import sys

from bench import (
    backfill,
    batch_vs_stream,
    ceilings,
    end_to_end,
    linkage_quality,
    privacy_attacks,
    producer_throughput,
    pseudonymise_throughput,
    report,
    resolver_scaling,
    workers,
)
from bench.common import print_summary

sys.argv = sys.argv[:1]
summary = ceilings.main()
producer_throughput.main()
pseudonymise_throughput.main()
resolver_scaling.main()
summary += end_to_end.main()
workers.main()
summary += batch_vs_stream.main()
summary += backfill.main()
summary += linkage_quality.main()
summary += report.main()
summary += privacy_attacks.main()
print_summary(summary)
