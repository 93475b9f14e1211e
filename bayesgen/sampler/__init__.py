"""The Gibbs sampler driver and its draw storage."""

from .driver import SamplerResult, run_chains

__all__ = ["SamplerResult", "run_chains"]
