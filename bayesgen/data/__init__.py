"""Data handling: pedigrees, genotypes and fixed-effect designs."""

from .genotypes import Genotypes
from .pedigree import Pedigree

__all__ = ["Genotypes", "Pedigree"]
