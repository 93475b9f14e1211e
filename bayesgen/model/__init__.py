"""Models: the general composition of terms and the ready-made standard models."""

from .model import Model
from .standard import BRR, GBLUP, AnimalModel, BayesA, BayesC, BayesCPi

__all__ = ["AnimalModel", "BRR", "BayesA", "BayesC", "BayesCPi", "GBLUP", "Model"]
