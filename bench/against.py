"""End to end back to back against another commit, on this machine and the running stack.

``python -m bench.against COMMIT [--rounds 3] [--backlog 60000]`` checks COMMIT out into a
throwaway git worktree and runs ``bench.end_to_end`` (the backlog's sustained rate, a short
1,000 events/s phase) there and in this tree in turn, ``--rounds`` times each, so the two
share the machine's state and drift; absolute rates vary ±40 % between machines, the ratio
is what compares. The tree that goes first alternates round by round (``in_turn``), so a
drift within a round, or whatever a run leaves behind for the next, favours neither. Each
run has its own database and topics; the other commit runs its own code, with this
interpreter and packages, on this machine's stack (an older release that reads no stored
password gets the embedded server's owner password as ``PGPASSWORD``, in its environment
only). ``--keep-rules a,b,...`` runs this tree with the shipped model's blocking rules cut
to those (``bench.common.keeping_rules``): what a rule group costs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import keeping_rules, written_model
from core.credentials import OWNER, secrets_folder, stored_password
from core.settings import Settings
from stream_processors.resolve.model import load_model

ROOT = Path(__file__).resolve().parents[1]
RATE = re.compile(r"sustained throughput, [\d,]+-event backlog \| ([\d,]+) events/s")
CPU = re.compile(r"CPU per event meanwhile \(µs\) \| ([^|]+)\|")


def _environment(tree: Path, model: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("EARLYLINK_PROCESSOR_MODEL_PATH", None)  # another commit may read another format
    if model is not None:
        env["EARLYLINK_PROCESSOR_MODEL_PATH"] = str(model)
    settings = Settings()
    if settings.database.url is None and settings.database.password is None:
        folder = secrets_folder(settings.paths.state_dir)
        env["PGPASSWORD"] = stored_password(folder, OWNER, generate=False)
    return env


def run_once(tree: Path, backlog: int, model: Path | None = None) -> tuple[float, str]:
    """One ``bench.end_to_end`` in ``tree`` (the resolver with ``model``, or that tree's
    shipped one): the sustained rate and the CPU per event."""
    command = [sys.executable, "-m", "bench.end_to_end", "--backlog", str(backlog)]
    command += ["--rates", "1000", "--seconds", "5"]
    done = subprocess.run(
        command,
        cwd=tree,
        env=_environment(tree, model),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    rate, cpu = RATE.search(done.stdout), CPU.search(done.stdout)
    if done.returncode != 0 or rate is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise SystemExit(f"bench.end_to_end failed in {tree}:\n" + "\n".join(tail))
    return float(rate[1].replace(",", "")), cpu[1].strip() if cpu else ""


def in_turn(trees: dict[str, Path], round_: int) -> dict[str, Path]:
    """The trees in the order round ``round_`` (from 1) runs them: as given in odd rounds,
    reversed in even ones."""
    names = list(trees) if round_ % 2 else list(reversed(trees))
    return {name: trees[name] for name in names}


def _worktree(commit: str, folder: Path) -> str:
    git = ["git", "-C", str(ROOT)]
    subprocess.run(
        [*git, "worktree", "add", "--detach", "--force", str(folder), commit],
        check=True,
        capture_output=True,
    )
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return head.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commit", help="the commit to compare with, e.g. 041f7a0")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backlog", type=int, default=60_000)
    parser.add_argument(
        "--keep-rules",
        help="comma-separated blocking rules: this tree runs the shipped model with only these"
        " (what a rule group costs; the other commit keeps its own model)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="earlylink-against-")) / "tree"
    model = None
    if args.keep_rules:
        kept = keeping_rules(load_model(), args.keep_rules.split(","))
        model = written_model(kept, folder.parent)
    head = _worktree(args.commit, folder)
    ours = f"this tree ({head})" + (f", rules {args.keep_rules}" if model else "")
    trees = {args.commit: folder, ours: ROOT}
    rates: dict[str, list[float]] = {name: [] for name in trees}
    print(f"\n### End to end back to back: {args.commit} and this tree, {args.backlog:,} events\n")
    print("| round | commit | sustained events/s | CPU per event (µs) |\n| --- | --- | --- | --- |")
    try:
        for round_ in range(1, args.rounds + 1):
            for name, tree in in_turn(trees, round_).items():
                rate, cpu = run_once(tree, args.backlog, model if tree == ROOT else None)
                rates[name].append(rate)
                print(f"| {round_} | {name} | {rate:,.0f} | {cpu} |", flush=True)
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
            capture_output=True,
        )
        shutil.rmtree(folder.parent, ignore_errors=True)
    base, new = (statistics.median(r) for r in rates.values())
    print(
        f"\nmedians: {args.commit} {base:,.0f}, this tree {new:,.0f} events/s:"
        f" {new / base:.2f} of {args.commit}"
    )


if __name__ == "__main__":
    main()
