"""Data handling: pedigrees, genotypes (CSV, arrays, PLINK files), genomic relationships and
fixed-effect designs."""

from .genomic_relationship import grm
from .genotypes import Genotypes
from .pedigree import Pedigree
from .plink import read_plink

__all__ = ["Genotypes", "Pedigree", "grm", "read_plink"]
