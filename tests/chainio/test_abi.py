"""The fast static ABI decoder agrees with eth-abi (plus normalisation) on every static type
the contracts return, and rejects short return data."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_abi.exceptions import InsufficientDataBytes
from hypothesis import given
from hypothesis import strategies as st

from chainio.abi import AbiCodec

TYPES = {
    "uint256": st.integers(0, 2**256 - 1),
    "int256": st.integers(-(2**255), 2**255 - 1),
    "uint80": st.integers(0, 2**80 - 1),
    "uint8": st.integers(0, 255),
    "bool": st.booleans(),
    "address": st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()),
}


def _abi(outputs: list[dict]) -> list[dict]:
    return [{"type": "function", "name": "f", "inputs": [], "outputs": outputs, "stateMutability": "view"}]


def _param(kind: str) -> dict:
    return {"name": "", "type": kind}


STRUCT = {
    "name": "",
    "type": "tuple",
    "components": [_param("bool"), _param("uint256[4]"), _param("int256"), _param("address")],
}


@given(data=st.data())
def test_static_outputs__fast_path_equals_eth_abi(data):
    kinds = data.draw(st.lists(st.sampled_from(sorted(TYPES)), min_size=1, max_size=5))
    values = [data.draw(TYPES[k]) for k in kinds]
    codec = AbiCodec(_abi([_param(k) for k in kinds]))
    raw = encode(kinds, values)
    fast = codec.decode_output("f", raw)
    codec._functions["f"]["decoders"] = None  # force the eth-abi path
    assert fast == codec.decode_output("f", raw)


@given(
    flag=st.booleans(),
    words=st.lists(st.integers(0, 2**256 - 1), min_size=4, max_size=4),
    signed=TYPES["int256"],
    who=TYPES["address"],
)
def test_struct_with_fixed_array__fast_path_equals_eth_abi(flag, words, signed, who):
    codec = AbiCodec(_abi([STRUCT]))
    raw = encode(["(bool,uint256[4],int256,address)"], [(flag, words, signed, who)])
    fast = codec.decode_output("f", raw)
    codec._functions["f"]["decoders"] = None
    assert fast == codec.decode_output("f", raw)


def test_short_data__raises_like_eth_abi():
    codec = AbiCodec(_abi([_param("uint256"), _param("uint256")]))
    with pytest.raises(InsufficientDataBytes):
        codec.decode_output("f", bytes(32))
