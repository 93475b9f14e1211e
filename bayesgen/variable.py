"""The declaration of a recorded quantity, shared by terms, priors, the driver and the output."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variable:
    """A quantity recorded every kept draw.

    ``dims`` name its axes (beyond chain and draw) and ``coords`` label them, following
    arviz's ``from_dict`` conventions. ``high_dimensional`` marks per-animal or
    per-marker vectors that ``store="summary"`` keeps only as running mean and sd.
    ``group`` is the InferenceData group it goes to. ``inclusion`` marks effects that are
    exactly 0 with positive probability (spike-and-slab marker priors): when summarised,
    the share of draws where each is not 0 (its posterior inclusion probability) is kept too.
    """

    name: str
    dims: tuple = ()
    coords: dict = field(default_factory=dict)
    high_dimensional: bool = False
    group: str = "posterior"
    inclusion: bool = False

    @property
    def shape(self) -> tuple:
        return tuple(len(self.coords[d]) for d in self.dims)
