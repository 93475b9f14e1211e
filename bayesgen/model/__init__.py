"""Models: the general composition of terms and the ready-made standard models."""

from .model import Model
from .resume import resume
from .standard import BRR, GBLUP, AnimalModel, BayesA, BayesB, BayesC, BayesCPi, BayesLasso, BayesR

__all__ = ["AnimalModel", "BRR", "BayesA", "BayesB", "BayesC", "BayesCPi", "BayesLasso", "BayesR", "GBLUP", "Model", "resume"]
