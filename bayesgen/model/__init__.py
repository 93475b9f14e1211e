"""Models: the general composition of terms and the ready-made standard models."""

from .fit import fit
from .formula import FormulaError
from .model import Model
from .standard import BRR, GBLUP, AnimalModel, BayesA, BayesB, BayesC, BayesCPi, BayesLasso, BayesR

__all__ = [
    "AnimalModel",
    "FormulaError",
    "BRR",
    "BayesA",
    "BayesB",
    "BayesC",
    "BayesCPi",
    "BayesLasso",
    "BayesR",
    "GBLUP",
    "Model",
    "fit",
]
