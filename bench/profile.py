"""Where a processor's time goes: py-spy samples a real stage draining a backlog.

Publishes a synthetic borough to scratch topics, lets the pseudonymiser drain it (and, for the
resolver, lets the resolver drain the pseudonymised topic), and while the stage under study
drains, samples it with ``py-spy record --format raw`` (with ``--gil``: only samples holding the
GIL, i.e. Python work, which is what limits a stage on a shared core). Prints the share of
samples by layer (faust/aiokafka, psycopg, fastavro, our pure stages, ...) and the functions
with the most samples of their own. ``python -m bench.profile --stage resolve``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.common import drain_rate, scratch
from producers.publisher import Publisher
from producers.synthetic.timeline import BoroughGenerator

# First match wins: a sample counts for the innermost frame whose file names one of these.
LAYERS = [
    ("stream_processors/pseudonymise/", "pseudonymise: pure stage"),
    ("stream_processors/resolve/", "resolve: pure library"),
    ("sink/", "sink: our SQL writers"),
    ("psycopg", "psycopg"),
    ("fastavro", "fastavro"),
    ("schemas/", "schemas: wire, models"),
    ("confluent_kafka", "confluent-kafka"),
    ("aiokafka", "aiokafka"),
    ("faust", "faust"),
    ("mode/", "mode (faust's services)"),
    ("asyncio", "asyncio event loop"),
    ("stream_processors/", "agents, metrics, output"),
    ("prometheus_client", "prometheus-client"),
]


def layer_of(stack: list[str]) -> str:
    """The layer of the innermost frame (last in py-spy's order) that names a known file."""
    for frame in reversed(stack):
        for needle, layer in LAYERS:
            if needle in frame:
                return layer
    return "other (interpreter, stdlib)"


def read_raw(path: Path) -> list[tuple[list[str], int]]:
    """py-spy's raw (collapsed) format: ``frame;frame;... count`` per line."""
    samples = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((stack.split(";"), int(count)))
    return samples


def summarise(samples: list[tuple[list[str], int]], top: int) -> None:
    total = sum(n for _, n in samples) or 1
    layers: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for stack, n in samples:
        layers[layer_of(stack)] += n
        own[stack[-1].split(" (")[0] + " (" + stack[-1].rsplit("/", 1)[-1]] += n
    print(f"\n{total:,} samples holding the GIL\n")
    print("| layer (innermost known frame) | share |\n| --- | --- |")
    for layer, n in layers.most_common():
        print(f"| {layer} | {n / total:.1%} |")
    print("\n| function (own samples) | share |\n| --- | --- |")
    for name, n in own.most_common(top):
        print(f"| `{name}` | {n / total:.1%} |")


def sample(out: Path, seconds: float) -> Callable[[list[subprocess.Popen[bytes]]], None]:
    """For ``drain_rate``: record the first worker with py-spy for ``seconds`` into ``out``."""

    def record(procs: list[subprocess.Popen[bytes]]) -> None:
        spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        subprocess.run(
            [
                spy,
                "record",
                "--pid",
                str(procs[0].pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "200",
                "--gil",
                "--format",
                "raw",
                "--output",
                str(out),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", choices=["pseudonymise", "resolve"], default="pseudonymise")
    parser.add_argument("--families", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw samples in this file")
    args = parser.parse_args()
    events = BoroughGenerator(args.families, 7).events()
    out = args.raw or Path(tempfile.mkdtemp()) / "profile.txt"
    with scratch(16290) as settings:
        with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
            for event in events:
                publisher.publish(event)
        spy = sample(out, args.seconds)
        first = spy if args.stage == "pseudonymise" else None
        drain_rate(settings, "pseudonymise", "raw", web_port=16290, while_draining=first)
        if args.stage == "resolve":
            drain_rate(settings, "resolve", "pseudonymised", web_port=16290, while_draining=spy)
    print(f"\n### Profile of {args.stage} ({len(events):,} events, {args.seconds:.0f} s sampled)")
    summarise(read_raw(out), args.top)


if __name__ == "__main__":
    main()
