"""Run every benchmark in turn (each prints its markdown table): the machine's ceilings first,
then each stage, then the pipeline end to end."""

import sys

from bench import (
    backfill,
    batch_vs_stream,
    ceilings,
    end_to_end,
    producer_throughput,
    pseudonymise_throughput,
    resolver_scaling,
    workers,
)

sys.argv = sys.argv[:1]
ceilings.main()
producer_throughput.main()
pseudonymise_throughput.main()
resolver_scaling.main()
end_to_end.main()
workers.main()
batch_vs_stream.main()
backfill.main()
