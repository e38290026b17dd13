"""Safety-module rules and invariants of the stateful machine (issue 19, item 3).

Slashes timed at the rolling window's edges (a window after the last slash, one second before it,
one after, and at a bucket boundary), stakers leaving ahead of a gap they could see (the escrow must
still be slashable), and after every step a brute force over every interval ending now
(`difftest.slash_intervals`): no `slashWindow`-long interval lets the slashes take more than
`maxSlashBps` of a share's value or of the assets at its start plus what joined.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from difftest.slash_intervals import timeline, violations
from pymodel.safety_module import CHECKPOINTS

BPS = 10_000


class SafetyModuleRules:
    """Mixed into `LedgerMachine` (it supplies `ledger`, `c`, `act`, `stakers`, `keeper`, and the
    `gap_and_liquidate` rule these reuse)."""

    ledger: Any
    c: Any
    stakers: list[str]
    keeper: str

    def _last_slash_time(self) -> int:
        return max((at for at, kept in self.c.safety_module.checkpoints if kept), default=0)

    @rule(
        edge=st.sampled_from(["window-1", "window", "window+1", "bucket", "same"]),
        pick=st.integers(0, 5),
        move_bps=st.integers(1_500, 3_000),
    )
    @precondition(lambda self: self.has_positions())
    def slash_at_window_edge(self, edge: str, pick: int, move_bps: int) -> None:
        """A gap liquidation timed against the last slash: at the window's edges or a bucket's."""
        sm = self.c.safety_module
        last = self._last_slash_time()
        window = sm.slash_window
        span = -(-window // (CHECKPOINTS - 1))
        target = {
            "window-1": last + window - 1,
            "window": last + window,
            "window+1": last + window + 1,
            "bucket": sm.slash_origin + ((last - sm.slash_origin) // span + 1) * span,
            "same": last,
        }[edge]
        if last and target > self.ledger.now:
            self.ledger.advance(target - self.ledger.now)
        self.refresh_prices()
        self.gap_and_liquidate(pick, move_bps, 0)

    @rule(staker=st.integers(0, 1), pick=st.integers(0, 5), move_bps=st.integers(1_500, 3_000))
    @precondition(lambda self: self.has_positions())
    def exit_ahead_of_a_visible_gap(self, staker: int, pick: int, move_bps: int) -> None:
        """A staker whose window is open escrows its stake, the gap lands 60 s later: its claim
        must be refused until `exitDelay`, and the slash reaches the escrow pro rata."""
        who, sm = self.stakers[staker], self.c.safety_module
        start = sm.cooldown_start_of(who)
        opens = start + sm.cooldown_period
        open_window = start and opens <= self.ledger.now < opens + sm.unstake_window
        if not open_window or sm.cooldown_shares_of(who) == 0:
            self.act(who, "safetyModule", "cooldown")
            self.ledger.advance(sm.cooldown_period)
        shares = min(sm.cooldown_shares_of(who), sm.shares_of(who))
        if shares == 0 or self.act(who, "safetyModule", "redeem", shares).reverted:
            return
        self.ledger.advance(60)
        out = self.act(who, "safetyModule", "claim", who)
        assert out.reverted and out.error[0] == "ClaimTooEarly", f"claimed ahead of the gap: {out}"
        self.refresh_prices()
        self.gap_and_liquidate(pick, move_bps, 0)

    @invariant()
    def slash_cap_on_every_interval(self) -> None:
        """Brute force over every interval ending now (the machine never changes maxSlashBps); an
        interval that starts before a slash window grew is skipped (the ring forgets what the
        shorter window had dropped)."""
        sm = self.c.safety_module
        executed = self.ledger.executed()
        steps = timeline(executed, sm.address)
        assert sum(s.amount if s.kind == "in" else -s.amount for s in steps) == sm.total_assets
        earliest, window = 0, None
        for action, outcome in executed:
            for event in outcome.events:
                if event.emitter == sm.address and event.name == "ParamsSet":
                    new = event.values[3]
                    if window is not None and new > window:
                        earliest = max(earliest, action.timestamp - window + 1)
                    window = new
        earliest = max(earliest, self.ledger.now - sm.slash_window + 1)
        found = violations(steps, sm.slash_window, sm.max_slash_bps, self.ledger.now, earliest)
        assert not found, found[:3]
