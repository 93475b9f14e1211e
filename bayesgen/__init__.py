"""bayesgen: Bayesian genomic prediction and variance components by Gibbs sampling.

The public names (``bg.BayesA``, ``bg.Genotypes``, ...) are imported on first use: ``import
bayesgen`` loads none of pandas, scipy, numba, xarray or arviz, so a script starts in a
fraction of a second and pays only for what it uses. To export a new name, add it to
``_EXPORTS`` with the submodule that defines it.
"""

import importlib

from ._version import __version__

_EXPORTS = {
    "classical": ["reml", "lrt", "solve_mme"],
    "data": ["Genotypes", "Pedigree", "grm", "read_plink"],
    "diagnostics": ["gwas", "prior_sensitivity"],
    "likelihoods": ["Censored", "Gaussian", "Threshold"],
    "model": [
        "BRR",
        "GBLUP",
        "AnimalModel",
        "BayesA",
        "BayesB",
        "BayesC",
        "BayesCPi",
        "BayesLasso",
        "BayesR",
        "Model",
        "fit",
        "FormulaError",
    ],
    "output": ["summary"],
    "resume_run": ["resume"],
    "prediction": ["cross_validate"],
    "priors": [
        "BayesAPrior",
        "DiagonalPrior",
        "FixedVariance",
        "Gamma",
        "HalfT",
        "HuangWand",
        "InverseWishart",
        "MarkerPrior",
        "ScaledInvChi2",
        "VariancePrior",
        "BayesBPrior",
        "BayesCPrior",
        "BayesRPrior",
        "Beta",
        "LassoPrior",
        "RidgePrior",
        "MultiTraitBayesCPrior",
        "MultiTraitRidgePrior",
    ],
    "simulation": ["Simulation", "simulate"],
    "terms": [
        "Animal",
        "Fixed",
        "Kernel",
        "MaternalAnimal",
        "Markers",
        "Random",
        "RandomRegression",
        "SingleStep",
        "total_heritability",
    ],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
#: Subpackages reachable as ``bg.<name>`` without their own import, as when they were loaded eagerly.
_SUBPACKAGES = {
    "classical",
    "cli",
    "data",
    "diagnostics",
    "kernels",
    "likelihoods",
    "model",
    "output",
    "prediction",
    "priors",
    "sampler",
    "simulation",
    "terms",
}

__all__ = sorted(["__version__", *_MODULE_OF])


def __getattr__(name):
    """Import the submodule that defines ``name`` on first access (PEP 562), then cache it here."""
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'bayesgen' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
