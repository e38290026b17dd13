"""Reverts as Python exceptions: one class per Solidity custom error, same name, same fields.

Parity compares `(name, args)` of the model's exception with the chain's decoded
revert data, so a field's name, order and value all have to match the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar


class Revert(Exception):
    """A transaction revert. Subclasses are dataclasses whose fields are the error's arguments."""

    def __str__(self) -> str:
        return f"{self.error_name}({', '.join(f'{k}={v!r}' for k, v in self.arguments.items())})"

    @property
    def error_name(self) -> str:
        return type(self).__name__

    @property
    def arguments(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def signature(self) -> tuple[str, tuple[Any, ...]]:
        """`(error name, argument values in declaration order)`: what parity compares."""
        return self.error_name, tuple(self.arguments.values())


@dataclass
class Panic(Revert):
    """Solidity `Panic(uint256)`: the compiler's checked-arithmetic and assertion failures."""

    code: int

    ASSERT: ClassVar[int] = 0x01
    ARITHMETIC: ClassVar[int] = 0x11
    DIVISION_BY_ZERO: ClassVar[int] = 0x12
    ENUM_CONVERSION: ClassVar[int] = 0x21
    ARRAY_INDEX: ClassVar[int] = 0x32


@dataclass
class SafeCastOverflowedUintDowncast(Revert):
    """OpenZeppelin SafeCast."""

    bits: int
    value: int


@dataclass
class SafeCastOverflowedIntToUint(Revert):
    """OpenZeppelin SafeCast."""

    value: int


@dataclass
class SafeCastOverflowedIntDowncast(Revert):
    """OpenZeppelin SafeCast."""

    bits: int
    value: int


@dataclass
class SafeCastOverflowedUintToInt(Revert):
    """OpenZeppelin SafeCast."""

    value: int


@dataclass
class UnsupportedDecimals(Revert):
    """Units.UnsupportedDecimals."""

    decimals: int


# Errors several contracts declare with the same name and fields (so the same selector).


@dataclass
class NotEngine(Revert):
    """ILPPool / IInsuranceFund / ISafetyModule.NotEngine: an engine hook called by someone else."""

    caller: str


@dataclass
class EngineAlreadySet(Revert):
    """ILPPool / IInsuranceFund / ISafetyModule.EngineAlreadySet."""


@dataclass
class ZeroAmount(Revert):
    """IInsuranceFund / ISafetyModule / IPerpEngine.ZeroAmount."""


@dataclass
class ZeroShares(Revert):
    """ILPPool / ISafetyModule.ZeroShares."""


@dataclass
class InvalidParameter(Revert):
    """IPerpEngine / ISafetyModule.InvalidParameter: a parameter out of its bounds."""

    name: str
    value: int


def error_classes() -> dict[str, type[Revert]]:
    """Every error class defined in the model, by Solidity name."""
    found: dict[str, type[Revert]] = {}
    stack: list[type[Revert]] = [Revert]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            found[sub.__name__] = sub
            stack.append(sub)
    return found
