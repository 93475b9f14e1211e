"""The interface every update block declares about its per-chain state (state versus workspace)."""

from __future__ import annotations


class UpdateBlock:
    """What every update block declares about its per-chain state (``init_state``).

    A block's state dict holds the chain's state (arrays, scalars, nested dicts/lists of them:
    saved in a checkpoint, ``bayesgen.sampler.checkpoint``) and, under the keys listed in
    ``workspace``, workspaces (factor copies) that are never saved: a restored chain gets fresh
    ones from ``init_state`` and ``rebuild_workspace`` puts back what they held that the next
    step relies on.
    """

    #: Keys of the block state that are workspaces, rebuilt rather than saved.
    workspace: tuple = ()

    def init_state(self, rng) -> dict:
        return {}

    def rebuild_workspace(self, block_state: dict, states: list) -> None:
        """Refill the fresh workspaces of a restored ``block_state`` (the saved keys and the
        terms' ``states`` already restored) so that the next step draws what it would have drawn."""
