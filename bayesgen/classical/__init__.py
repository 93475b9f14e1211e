"""Classical companions of the samplers: REML/ML estimates, likelihood-ratio tests, mixed-model solvers.

They use the same model objects and the locations' mixed-model equations
(``bayesgen.sampler.mme``) as the Gibbs samplers.
"""

from .lrt import lrt
from .mme_solvers import solve_mme
from .reml import reml
from .result import RemlResult

__all__ = ["RemlResult", "lrt", "reml", "solve_mme"]
