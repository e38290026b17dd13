"""How fuzz campaigns read: the live progress line and the summary of a campaign record.

`python -m difftest.fuzz_report docs/fuzz-campaign.json` prints a record's summary again;
given a directory, the shard reports (`shard-N.json`) of `tests/fuzz` with FUZZ_REPORT_DIR.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from difftest.campaign_record import CampaignRecord, Coverage

LABELS = {
    "liquidations": "liquidations",
    "bad_debt_settlements": "bad-debt settlements",
    "slashes": "slashes",
    "adl_steps": "ADL steps",
    "haircuts": "haircuts",
    "refused_fills": "refused fills",
    "bound_refreshes": "bound refreshes",
}


def reached(coverage: Coverage) -> str:
    return ", ".join(f"{label} {getattr(coverage, name):,}" for name, label in LABELS.items())


def progress_line(
    shards: int, running: int, done: int, sequences: int, transactions: int, seconds: float, coverage: Coverage
) -> str:
    return (
        f"fuzz: {shards} shards ({running} running, {done} done), {sequences:,} sequences, "
        f"{transactions:,} transactions, {transactions / max(seconds, 1e-9):,.0f} tx/s, {seconds / 60:.1f} min | "
        f"{reached(coverage)}"
    )


def summary_lines(record: CampaignRecord) -> list[str]:
    t = record.totals
    verdict = "PASSED" if record.passed else "FAILED"
    lines = [
        f"fuzz campaign {verdict}: {record.shards} shards, profile {record.profile} "
        f"({record.steps_per_sequence} steps a sequence), seed {record.seed}, {record.scheduler}",
        f"  commit {record.git_commit or '?'}{' (uncommitted changes)' if record.git_dirty else ''}, "
        f"started {record.started_at}, {record.wall_s / 60:.1f} min wall, {record.cpu_s / 60:.1f} min CPU",
        f"  {t.sequences:,} sequences, {t.transactions:,} differential transactions, {t.tx_per_s:,.0f} tx/s; "
        f"{t.mismatches} mismatches, {t.invariant_violations} invariant violations, "
        f"{t.infrastructure_errors} infrastructure errors (retried)",
        f"  reached: {reached(record.coverage)}",
    ]
    for r in record.results:
        lines.append(
            f"  shard {r.shard} (seed {r.seed}): {r.status}, {r.sequences:,} sequences, {r.transactions:,} "
            f"transactions, {r.tx_per_s:,.0f} tx/s, {r.restarts} restarts"
        )
        for e in r.infrastructure_errors:
            lines.append(f"    {e.status}: chunk {e.chunk} (seed {e.chunk_seed}), sequence {e.sequence}: {e.error}")
    for f in record.failures:
        lines.append(f"  FAILURE shard {f.shard} chunk {f.chunk} (Hypothesis seed {f.chunk_seed}), {f.kind}: {f.error}")
        lines += [f"    {step}" for step in f.shrunk_sequence[:60]]
        lines += [f"    regression vector: {v.path or v.name}" for v in f.regression_vectors]
    return lines


def _shard_reports(directory: Path) -> int:
    reports = [json.loads(path.read_text()) for path in sorted(directory.glob("shard-*.json"))]
    if not reports:
        print("fuzz: no shard finished (see the errors above)")
        return 1
    transactions = sum(r["transactions"] for r in reports)
    seconds = max(r["seconds"] for r in reports)
    print(f"\nfuzz summary ({len(reports)} shards, {seconds / 60:.1f} min):")
    print(f"  {sum(r['sequences'] for r in reports)} sequences, {transactions} transactions")
    for report in reports:
        print(f"  shard {report['shard']}: {report['summary']}")
    return 0


def main(target: str) -> int:
    path = Path(target)
    if path.is_dir():
        return _shard_reports(path)
    record = CampaignRecord.load(path)
    print("\n".join(summary_lines(record)))
    return 0 if record.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
