"""Exact, integer-only Python reference model of the perp-backstop contracts.

Every module mirrors one Solidity contract or library, function for function, with
the same rounding, the same reverts (as exceptions named like the custom errors)
and the same events. No floats anywhere.
"""
