r"""The likelihood protocol: the one owner of the residual, its covariance and the working response.

Every likelihood of bayesgen is Gaussian on a **working response** Y (records x traits):

.. math:: Y = \text{(linear predictor)} + E,\qquad e_r \sim N(0, R),

where Y is the phenotype itself (Gaussian traits), or data augmented from it each iteration:
missing traits of a record (drawn from their conditional), liabilities of threshold traits
(truncated normals given the category), values of censored records (truncated normals
within their bounds). The location terms, marker sweeps and every sampler see only Y, the
weights and R, so a new likelihood is one new class implementing this interface; no
sampler changes.

A likelihood provides:

* ``patterns()``: the records with data, grouped by which traits of Y are data for them (the
  joint and collapsed samplers integrate the others out, ``bayesgen.sampler.mme``);
* ``augment(rng, state, ctx)``: the data-augmentation step (keeps ``ctx.resid`` consistent);
* the covariance R: ``covariance``, ``prior``, ``samples_covariance``, ``draw_covariance``
  (conjugate, from the completed residuals) and ``set_covariance`` (after a collapsed step);
* ``log_likelihood``: the pointwise log-likelihood of the observed data, optionally with
  each record's own random effects integrated out (their conditional mean shift and variance);
* ``simulate_response``: the observed data given the parameters (joint-distribution tests);
* ``cv_scores``, ``cv_columns_of`` and ``masked_data``: how cross-validation masks and scores
  held-out records.

It is the last entry of ``model.terms`` and of every chain's states; ``ctx`` reads R from its
state (``StepContext.residual_covariance``).
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import pandas as pd

from .._validation import preview
from ..terms.base import Term


class Likelihood(Term):
    """Base class of the likelihoods (module docstring)."""

    name = "residual"
    has_variance = False
    #: The ``family=`` name that selects this likelihood in ``bg.Model``.
    family: str = ""
    #: Columns ``cv_scores`` returns, in order (``bg.cross_validate``'s table).
    cv_columns: tuple = ()

    def record_variables(self) -> list:
        """The per-record ``y`` of the ``log_likelihood`` group and, when ``posterior_predictive``,
        of the ``posterior_predictive`` group (dim ``record``, and ``trait`` with several traits;
        needs ``record_labels``, ``n_traits`` and ``traits``)."""
        from ..variable import Variable

        coords = {"record": self.record_labels}
        out = [Variable("y", ("record",), coords, high_dimensional=True, group="log_likelihood")]
        if self.posterior_predictive:
            dims: tuple = ("record",)
            if self.n_traits > 1:  # several traits: a replicate per record and trait
                coords, dims = {**coords, "trait": self.traits}, ("record", "trait")
            out.append(Variable("y", dims, coords, high_dimensional=True, group="posterior_predictive"))
        return out

    def configure(self, variance, posterior_predictive: bool = False) -> None:
        """The model's options for the likelihood: the prior on R (``sigma2_e``; None keeps the
        likelihood's own) and whether replicated data are recorded."""
        if variance is not None:
            self.variance_prior_arg = variance
        self.posterior_predictive = posterior_predictive

    @abstractmethod
    def patterns(self) -> list:
        """Records with data, by pattern: objects with ``rows`` (record positions) and ``observed``
        (trait indices of Y that are data for them)."""

    def working_response(self, state: dict) -> np.ndarray:
        """Y (records x traits), as the locations see it now (augmented parts as last drawn)."""
        return state["y"]

    @abstractmethod
    def augment(self, rng: np.random.Generator, state: dict, ctx) -> None:
        """Draw the augmented part of the working response given the linear predictor; keeps ``ctx.resid``."""

    @abstractmethod
    def covariance(self, state: dict) -> np.ndarray:
        """R (t x t) now."""

    @property
    def samples_covariance(self) -> bool:
        return self.prior.sampled

    @abstractmethod
    def draw_covariance(self, rng: np.random.Generator, state: dict, ctx) -> None:
        """R from its full conditional given the completed residuals ``ctx.resid``."""

    def set_covariance(self, rng: np.random.Generator, state: dict, value: np.ndarray) -> None:
        """Set R (drawn with the prior's auxiliary variables integrated out), then draw those given it."""
        state["sigma2_e"][:] = value
        self.prior.refresh_aux(rng, state["sigma2_e"], state["prior_aux"])

    @abstractmethod
    def draw_noise(self, rng: np.random.Generator, state: dict) -> None:
        """Per-iteration draws for predictions and replicates (after R is drawn)."""

    def step(self, rng, state, ctx, draw_covariance: bool = True) -> dict:
        """Augment, draw R (unless a collapsed block owns it), then the noise of predictions."""
        self.augment(rng, state, ctx)
        if draw_covariance:
            self.draw_covariance(rng, state, ctx)
        self.draw_noise(rng, state)
        return {}

    @abstractmethod
    def log_likelihood(self, state: dict, ctx, integrated=None) -> np.ndarray:
        """Pointwise log-likelihood of each record with data (``integrated``: per-record shift and
        extra variance of the residual when its own random effects are integrated out)."""

    @abstractmethod
    def simulate_response(self, rng: np.random.Generator, state: dict, linear_predictor: np.ndarray) -> None:
        """Draw the observed data (and the working response) given the parameters."""

    @abstractmethod
    def cv_scores(self, predicted: np.ndarray, observed: np.ndarray, trait: int = 0, **parameters) -> tuple:
        """Scores (``cv_columns_of(trait)``) of held-out records of ``trait``: ``predicted`` draws x
        records of its linear predictor, ``observed`` the records' data; ``parameters``: draws of the
        likelihood's own recorded parameters the scores need (e.g. ``cutpoints``)."""

    def cv_columns_of(self, trait: int = 0) -> tuple:
        """Columns ``cv_scores`` returns for ``trait`` (the same for every trait by default)."""
        return self.cv_columns

    def trait_scale_actions(self) -> list:
        """(trait, ``Scaling``) for each trait with a scale move of its own among several
        (``bayesgen.sampler.scale_move``): none by default."""
        return []

    @property
    def integrates_augmentation(self) -> bool:
        """Whether ``marginal_log_likelihood`` is available and wanted (the augmented data integrated
        out), which turns on the marginal group moves (``bayesgen.sampler.marginal_group_move``)."""
        return False

    def marginal_traits(self) -> list:
        """Traits among several whose own marginal group moves run (``Term.trait_group_action``): none
        by default."""
        return []

    def marginal_log_likelihood(self, state: dict, linear_predictor: np.ndarray) -> float:
        """log P(data | linear predictor) with the augmented part of the working response
        integrated out (records x traits; only when ``integrates_augmentation``)."""
        raise NotImplementedError(f"{type(self).__name__} has no marginal log-likelihood.")

    def fitted(self, state) -> np.ndarray:
        return np.zeros_like(state["y"])

    # ------------------------------------------------------------------ the data (before binding)
    def read_response(self, data: pd.DataFrame, traits: list) -> np.ndarray:
        """The phenotypes as a (records x traits) float array, NaN = no data; errors name the column
        and rows at fault. The default reads numeric columns (Gaussian traits)."""
        return np.column_stack([_phenotype(data, name) for name in traits])

    def masked_column(self, values: np.ndarray, held_out: np.ndarray, trait: int = 0):
        """Trait ``trait``'s phenotype column, as ``read_response`` reads it back, with the
        ``held_out`` records missing (cross-validation refits); ``values`` is its column of ``model.y``."""
        return np.where(held_out, np.nan, values)

    def masked_data(self, data: pd.DataFrame, names: list, values: np.ndarray, held_out, traits) -> pd.DataFrame:
        """A copy of ``data`` with the phenotypes of the traits at positions ``traits`` missing for the
        ``held_out`` records (``names``: the traits' columns; ``values``: ``model.y``, records x traits)."""
        data = data.copy()
        for k in traits:
            data[names[k]] = self.masked_column(values[:, k], held_out, k)
        return data

    def response_variance(self, values: np.ndarray) -> np.ndarray:
        """Per trait, the phenotypic variance the default priors scale to (observed values by default)."""
        observed = ~np.isnan(values)
        return np.array([float(np.var(values[observed[:, k], k], ddof=1)) for k in range(values.shape[1])])

    # ------------------------------------------------------------------ heritability on other scales
    def heritability_variables(self) -> list:
        """Variables ``scale_heritability`` adds next to ``h2`` (none by default)."""
        return []

    def scale_heritability(self, state: dict, h2) -> dict:
        """h2 transformed to other scales (e.g. a binary trait's observed scale): {name: value}."""
        return {}


def _phenotype(data: pd.DataFrame, name: str) -> np.ndarray:
    """A phenotype column as float64 with NaN for missing; errors name the rows at fault."""
    column = data[name]
    if pd.api.types.is_complex_dtype(column):
        raise TypeError(f"Phenotype column {name!r} is complex-valued; phenotypes must be real numbers.")
    if pd.api.types.is_bool_dtype(column):
        raise TypeError(f"Phenotype column {name!r} is boolean; for a binary trait use family='threshold'.")
    values = pd.to_numeric(column, errors="coerce")
    not_numeric = data.index[values.isna() & column.notna()]
    if len(not_numeric):
        raise ValueError(f"Phenotype column {name!r} has non-numeric values in rows {preview(list(not_numeric))}.")
    if pd.api.types.is_complex_dtype(values):
        raise TypeError(f"Phenotype column {name!r} has complex values; phenotypes must be real numbers.")
    values = values.to_numpy(dtype=np.float64)
    infinite = np.isinf(values)
    if infinite.any():
        raise ValueError(
            f"Phenotype column {name!r} has non-finite values in rows {preview(list(data.index[infinite]))} "
            "(use NaN for missing)."
        )
    return values
