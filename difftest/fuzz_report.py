"""`python -m difftest.fuzz_report DIR`: one summary of the shards of a `make fuzz-deep` run
(each shard writes `DIR/shard-N.json` when it ends)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(directory: str) -> int:
    reports = [json.loads(path.read_text()) for path in sorted(Path(directory).glob("shard-*.json"))]
    if not reports:
        print("fuzz-deep: no shard finished (see the errors above)")
        return 1
    sequences = sum(r["sequences"] for r in reports)
    transactions = sum(r["transactions"] for r in reports)
    seconds = max(r["seconds"] for r in reports)
    reached: dict[str, int] = {}
    for report in reports:
        for event, count in report["reached"].items():
            reached[event] = reached.get(event, 0) + count
    print(f"\nfuzz-deep summary ({len(reports)} shards, {seconds / 60:.1f} min):")
    print(f"  {sequences} sequences, {transactions} transactions, {transactions / max(seconds, 1e-9):,.0f} tx/s")
    print("  reached: " + ", ".join(f"{event} {count}" for event, count in reached.items()))
    for report in reports:
        print(f"  shard {report['shard']}: {report['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
