"""Type aliases of the public API's arguments (for annotations only; nothing here runs).

Modules use them under ``from __future__ import annotations``, so the names below are never
evaluated at run time: the aliases are strings that mypy reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from .priors.base import VariancePrior
    from .priors.beta import Beta
    from .priors.gamma import Gamma
    from .priors.marker_prior import MarkerPrior

#: A term's variance prior: a prior object, a number or matrix that fixes the variance, a list of
#: one prior (or number, or None) per coefficient (``structure="diag"``), or None for the default.
PriorArg: TypeAlias = "VariancePrior | float | np.ndarray | Sequence[Any] | None"
#: A marker prior, or None for the term's default.
MarkerPriorArg: TypeAlias = "MarkerPrior | None"
#: A probability that is fixed (a number) or sampled (a Beta prior).
PiArg: TypeAlias = "float | Beta"
#: A hyperparameter that is fixed (a number), sampled under a Gamma prior, or the default (None).
ScaleArg: TypeAlias = "float | Gamma | None"
#: One trait column or several.
TraitsArg: TypeAlias = "str | Sequence[str]"
#: A seed: an int >= 0, or None for fresh entropy.
SeedArg: TypeAlias = "int | None"
#: Ids of individuals (any hashable labels).
IdsArg: TypeAlias = "Sequence[Any] | np.ndarray | pd.Index"
#: Variable names of an InferenceData.
VarNamesArg: TypeAlias = "str | Sequence[str] | None"
