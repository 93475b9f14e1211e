"""``bg.fit``: a model from a formula, sampled, in one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from .formula import MODEL_OPTIONS, caller_namespace
from .model import Model

if TYPE_CHECKING:
    import arviz as az

    from ..data.genotypes import Genotypes
    from ..data.pedigree import Pedigree


def fit(
    formula: str | Sequence[str],
    data: pd.DataFrame,
    pedigree: Pedigree | None = None,
    genotypes: Genotypes | None = None,
    priors: dict[str, Any] | str | None = None,
    kernels: dict[str, Any] | None = None,
    **kwargs: Any,
) -> az.InferenceData:
    """Build the model of ``formula`` and sample it: ``bg.fit("bwt ~ sex + (1|byear) + animal(id)", data,
    pedigree=ped, seed=1)``.

    ``formula``, ``data``, ``pedigree``, ``genotypes``, ``priors`` and ``kernels`` are those of
    :meth:`bayesgen.Model.from_formula`; of ``kwargs``, the model's options (``sigma2_e``, ``sampler``,
    ``log_likelihood``, ``posterior_predictive``, ``family``, ``bounds``) build the model and the rest
    go to :meth:`bayesgen.Model.sample` (``draws``, ``burn``, ``chains``, ``seed``, ``progress``, ...).
    Returns the ``arviz.InferenceData`` of ``Model.sample``; keep the model (for ``predict``) with
    ``model = bg.Model.from_formula(...)`` and ``model.sample(...)`` instead.
    """
    model_options = {k: kwargs.pop(k) for k in MODEL_OPTIONS if k in kwargs}
    model = Model.formula_model(
        formula, data, pedigree, genotypes, priors, kernels, env=caller_namespace(1), **model_options
    )
    return model.sample(**kwargs)
