"""The watcher's pieces that need no chain: exact money formatting, the checkpoint file, and
the divergence line."""

from __future__ import annotations

import pytest

from chainio.watch import Checkpoint, Divergence, WatchedTx
from chainio.watch_view import amount, usd


def test_amount__truncates_exactly__no_float_rounding():
    assert amount(123_456_789, 6) == "123.45"  # not 123.46
    assert amount(10**30 + 1, 18) == "1,000,000,000,000.00"
    assert amount(-1, 6) == "-0.00" and usd(-1_500_000, 6) == "-$1.50"
    assert amount(7, 0) == "7.00" and amount(5, 2, places=0) == "0"


def _checkpoint() -> Checkpoint:
    tx = WatchedTx(
        block=5, timestamp=100, tx_hash="0x" + "ab" * 32, sender="0x" + "11" * 20, contract="pool", input="0x"
    )
    return Checkpoint(
        chain_id=11155111,
        config_hash="0x" + "cd" * 32,
        deployment_stamps={0: 90, 3: 95},
        next_block=6,
        block_timestamp=100,
        actors=["0x" + "22" * 20],
        transactions=[tx],
    )


def test_checkpoint__round_trips_through_its_file(tmp_path):
    path = tmp_path / "deep" / "watch.json"
    _checkpoint().save(path)
    assert Checkpoint.load(path) == _checkpoint()
    assert not list(path.parent.glob("*.tmp"))  # written atomically


def test_checkpoint__of_another_deployment__refused_naming_both():
    class Record:
        chain_id, config_hash = 11155111, "0x" + "ef" * 32

    with pytest.raises(ValueError, match=r"the checkpoint is for chain 11155111 config 0xcdcdcdcd.*the record"):
        _checkpoint().check_record(Record())  # type: ignore[arg-type]


def test_divergence__names_block_transaction_and_field():
    assert str(Divergence(7, "0xaa", "/pool.cash: model=1 chain=2")) == (
        "DIVERGED at block 7, tx 0xaa: /pool.cash: model=1 chain=2"
    )
    assert "block 9, no transaction to the system" in str(Divergence(9, None, "x"))
