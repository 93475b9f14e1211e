"""Simulation of pedigrees, genotypes and phenotypes with known truth."""

from .simulate import Simulation, simulate

__all__ = ["Simulation", "simulate"]
