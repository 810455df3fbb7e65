"""`python -m bench [--quick] [--json] [NAME...]`: run every benchmark (or the named ones), each in a fresh process."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench import BENCHMARKS
from bench._common import ROOT, Result, machine, print_results


def run_one(name: str, quick: bool) -> Result:
    """One benchmark in its own interpreter (clean memory figures, one QApplication each)."""
    command = [sys.executable, "-m", f"bench.{name}", "--json", *(["--quick"] if quick else [])]
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        failed = Result(name, f"{name}: FAILED (exit code {done.returncode})")
        failed.add("completed", "no", ok=False)
        return failed
    return Result.from_json(json.loads(lines[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[[], *BENCHMARKS], metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke test, not the figures)")
    parser.add_argument("--json", action="store_true", help="print every result as one JSON document")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = []
    for name in args.names or BENCHMARKS:
        if not args.json:
            print(f"running {name}…", file=sys.stderr, flush=True)
        results.append(run_one(name, args.quick))
    total = time.perf_counter() - start
    missed = [f"{result.name}: {figure.metric}" for result in results for figure in result.missed]
    if args.json:
        document = {
            "machine": machine(),
            "quick": args.quick,
            "seconds": total,
            "missed": missed,
            "results": [result.to_json() for result in results],
        }
        print(json.dumps(document, indent=2))
    else:
        info = machine()
        quick = " — QUICK run" if args.quick else ""
        print(
            f"Machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['ram_gb']} GB RAM, {info['os']}, "
            f"Python {info['python']}, PySide6 {info['pyside6']}, load {info['load_average_1m']}{quick}\n"
        )
        print_results(results)
        print(
            f"All benchmarks: {total:.0f} s. "
            + (f"Missed targets: {'; '.join(missed)}." if missed else "Every target met.")
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
