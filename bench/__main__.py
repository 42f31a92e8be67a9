"""``python -m bench``: run the benchmarks, print a markdown table each, record them in BENCHMARKS.md.

``--only NAME`` runs one benchmark and replaces only its section of the record; ``--quick`` runs
shorter versions (fewer jobs, faster clocks) and writes nothing unless ``--output`` is given, so
a smoke run never overwrites the committed figures.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

from . import classroom, download, notebook_growth, poll_delay, responsiveness, scale, startup
from ._common import REPO, machine_facts

BENCHMARKS: dict[str, ModuleType] = {
    "poll_delay": poll_delay,
    "scale": scale,
    "responsiveness": responsiveness,
    "download": download,
    "notebook_growth": notebook_growth,
    "startup": startup,
    "classroom": classroom,
}
RECORD = REPO / "BENCHMARKS.md"
_SECTION = re.compile(r"<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\1 -->\n", re.S)


def _header(quick: bool) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kind = "`python -m bench --quick` (shortened runs)" if quick else "`python -m bench`"
    return (
        "# Benchmarks\n\n"
        f"Recorded by {kind} on {stamp}, {machine_facts()}. Everything runs against the "
        "project's emulator over loopback; every baseline is measured in the same run. "
        "A section re-run alone (`--only NAME`) carries its own date.\n\n"
    )


def _merge(existing: str, sections: dict[str, str], quick: bool) -> str:
    """The record with ``sections`` replaced (or appended); the header is rewritten only when
    every benchmark ran."""
    found = dict(_SECTION.findall(existing))
    found.update(sections)
    header = _header(quick) if len(sections) == len(BENCHMARKS) else existing.split("<!-- bench:")[0]
    body = "".join(f"<!-- bench:{name} -->\n{found[name]}<!-- /bench:{name} -->\n\n"
                   for name in BENCHMARKS if name in found)
    return (header or _header(quick)) + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run this benchmark alone")
    parser.add_argument("--quick", action="store_true", help="shorter runs (about 2 minutes)")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"where to record the tables (default {RECORD.name}; none with --quick)")
    args = parser.parse_args(argv)
    output = args.output or (None if args.quick else RECORD)
    names = [args.only] if args.only else list(BENCHMARKS)
    sections: dict[str, str] = {}
    missed = 0
    for name in names:
        start = time.perf_counter()
        table = BENCHMARKS[name].run(quick=args.quick)
        table.provisional = args.quick
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        text = table.markdown() + f"\n_Run {stamp}{', quick' if args.quick else ''}, took " \
            f"{time.perf_counter() - start:.0f} s._\n"
        print(text, flush=True)
        sections[name] = text
        missed += sum(not target.met for target in table.targets)
    if output is not None:
        existing = output.read_text() if output.exists() else ""
        output.write_text(_merge(existing, sections, args.quick))
        print(f"recorded in {output}", file=sys.stderr)
    print(f"{missed} target(s) missed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
