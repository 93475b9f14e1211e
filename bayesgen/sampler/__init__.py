"""The Gibbs sampler: the step interface, update blocks, the driver and draw storage."""

from .driver import SamplerResult, run_chains
from .gibbs import ChainState, Gibbs

__all__ = ["ChainState", "Gibbs", "SamplerResult", "run_chains"]
