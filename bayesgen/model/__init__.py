"""Models: the general composition of terms and the ready-made standard models."""

from .model import Model
from .standard import GBLUP, AnimalModel, BayesA

__all__ = ["AnimalModel", "BayesA", "GBLUP", "Model"]
