"""Model terms. Each owns its parameters, prior, full conditionals and kernel."""

from .animal import Animal
from .base import BindContext, Term, Variable
from .fixed import Fixed
from .kernel import Kernel
from .location import LocationTerm
from .markers import Markers
from .maternal import MaternalAnimal, total_heritability
from .random import Random
from .random_regression import RandomRegression
from .single_step import SingleStep

__all__ = [
    "Animal",
    "BindContext",
    "Fixed",
    "Kernel",
    "LocationTerm",
    "MaternalAnimal",
    "Markers",
    "Random",
    "RandomRegression",
    "SingleStep",
    "Term",
    "Variable",
    "total_heritability",
]
