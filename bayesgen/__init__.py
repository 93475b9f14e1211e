"""bayesgen: Bayesian genomic prediction and variance components by Gibbs sampling."""

from ._version import __version__
from .data import Genotypes, Pedigree, grm, read_plink
from .diagnostics import gwas, prior_sensitivity
from .model import BRR, GBLUP, AnimalModel, BayesA, BayesB, BayesC, BayesCPi, BayesLasso, BayesR, Model
from .prediction import cross_validate
from .priors import (
    BayesAPrior, FixedVariance, Gamma, HalfT, InverseWishart, MarkerPrior, ScaledInvChi2, VariancePrior,
)
from .priors import BayesBPrior, BayesCPrior, BayesRPrior, Beta, LassoPrior, RidgePrior
from .simulation import Simulation, simulate
from .terms import Animal, Fixed, Kernel, Markers, Random

__all__ = [
    "BRR", "BayesB", "BayesBPrior", "BayesC", "BayesCPi", "BayesCPrior", "BayesLasso", "BayesR", "BayesRPrior", "Beta",
    "LassoPrior", "RidgePrior",
    "Animal", "AnimalModel", "BayesA", "BayesAPrior", "Fixed", "FixedVariance", "GBLUP", "Gamma", "Genotypes",
    "HalfT", "InverseWishart", "Kernel", "MarkerPrior", "Markers", "Model", "Pedigree", "Random", "ScaledInvChi2", "Simulation",
    "VariancePrior", "__version__", "cross_validate", "grm", "gwas", "prior_sensitivity", "read_plink", "simulate",
]
