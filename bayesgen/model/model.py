"""A model: records, a list of terms and the residual."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from .._validation import check_duplicates, preview, require_columns
from ..priors.defaults import DEFAULT_R2
from ..terms.base import BindContext, Term, Variable
from ..terms.residual import Residual


class Model:
    r"""y = (sum of terms) + e, fitted by Gibbs sampling.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per record. Rows whose phenotype is NaN are kept: they inform no
        parameter, and their predictions are returned in the InferenceData.
    y : str
        The phenotype column (numeric; NaN = missing, +-inf is an error).
    terms : list of Term
        E.g. ``[Fixed(["sex"]), Random("byear"), Animal("animal", ped)]``. Terms are
        copied before they are bound, so one term object can serve several models.
    sigma2_e : ScaledInvChi2, float or None
        Prior on the residual variance (float: fixed; None: default).

    Notes
    -----
    Default priors split Var(y) as BGLR does: half to the residual, half shared equally
    between the terms that have a variance (``bayesgen.priors.defaults``).
    ``h2`` is recorded when a term is genetic: the genetic variances over the sum of all
    variance components, per draw.
    """

    def __init__(self, data: pd.DataFrame, y: str, terms, sigma2_e=None):
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
        if len(data) == 0:
            raise ValueError("data is empty: no records.")
        require_columns(data, [y], "data")
        values = pd.to_numeric(data[y], errors="coerce")
        not_numeric = data.index[values.isna() & data[y].notna()]
        if len(not_numeric):
            raise ValueError(f"Phenotype column {y!r} has non-numeric values in rows {preview(list(not_numeric))}.")
        values = values.to_numpy(dtype=np.float64)
        infinite = np.isinf(values)
        if infinite.any():
            raise ValueError(
                f"Phenotype column {y!r} has non-finite values in rows {preview(list(data.index[infinite]))} "
                "(use NaN for missing)."
            )
        observed = ~np.isnan(values)
        if observed.sum() < 2:
            raise ValueError(f"Phenotype column {y!r} has fewer than 2 observed values.")
        phenotypic_variance = float(np.var(values[observed], ddof=1))
        if phenotypic_variance == 0:
            raise ValueError(f"Phenotype column {y!r} has no variation.")
        check_duplicates([str(i) for i in data.index], "row labels in data (record ids)")

        terms = [copy.copy(t) for t in terms]
        for t in terms:
            if not isinstance(t, Term):
                raise TypeError(f"Model terms must be bayesgen terms, got {t!r}.")
        check_duplicates([t.name for t in terms], "term names")
        n_variance = sum(t.has_variance for t in terms)
        share = phenotypic_variance * DEFAULT_R2 / max(n_variance, 1)
        context = BindContext(data, observed, phenotypic_variance, share)
        for t in terms:
            t.bind(context)
        residual = Residual(sigma2_e)
        residual.bind(context, share=phenotypic_variance * (1 - DEFAULT_R2))

        self.data = data
        self.y_name = y
        self.y = values
        self.observed = observed
        self.terms: list[Term] = terms + [residual]
        self.residual = residual
        # The working phenotype: 0 for missing records, so that resid = -mu there.
        self._y_work = np.where(observed, values, 0.0)
        self._genetic = [t for t in terms if t.genetic]
        self._variance_terms = [t for t in terms if t.has_variance]
        self._check_variable_names()

    # ------------------------------------------------------------------ description
    def __repr__(self) -> str:
        parts = " + ".join(type(t).__name__ + f"({t.name})" for t in self.terms[:-1])
        return f"Model({self.y_name} ~ {parts} + e; {self.observed.sum()} records observed of {self.y.size})"

    def describe(self) -> dict:
        return {"y": self.y_name, "terms": [t.describe() for t in self.terms]}

    def term(self, kind: type) -> Term:
        """The first term of the given class (e.g. ``model.term(Markers)``)."""
        for t in self.terms:
            if isinstance(t, kind):
                return t
        raise LookupError(f"The model has no {kind.__name__} term.")

    # ------------------------------------------------------------------ what is recorded
    def variables(self) -> list[Variable]:
        out = [v for t in self.terms for v in t.variables()]
        if self._genetic:
            out.append(Variable("h2"))
        return out

    def _check_variable_names(self) -> None:
        keys = [(v.group, v.name) for v in self.variables()]
        check_duplicates([f"{g}/{n}" for g, n in keys], "recorded variable names (rename a term)")
        dims = {}
        for v in self.variables():
            for d in v.dims:
                if d in dims and list(dims[d]) != list(v.coords[d]):
                    raise ValueError(f"Dimension {d!r} is used by two terms with different coordinates.")
                dims[d] = v.coords[d]

    # ------------------------------------------------------------------ sampler hooks
    def init_states(self, rng: np.random.Generator) -> list[dict]:
        return [t.init_state(rng) for t in self.terms]

    def sigma2_e(self, states) -> float:
        return states[-1]["sigma2_e"][0]

    def residual_from_scratch(self, states) -> np.ndarray:
        """e = y - sum of every term's fitted values (resets accumulated rounding)."""
        resid = self._y_work.copy()
        for t, s in zip(self.terms, states):
            resid -= t.fitted(s)
        return resid

    def record(self, states, resid) -> dict:
        """Values of all variables, keyed by (group, name)."""
        out = {}
        for t, s in zip(self.terms, states):
            for key, value in t.record(s, resid).items():
                out[key if isinstance(key, tuple) else ("posterior", key)] = value
        if self._genetic:
            genetic = sum(t.variance(s) for t, s in zip(self.terms, states) if t.genetic)
            total = sum(t.variance(s) for t, s in zip(self.terms, states) if t.has_variance)
            out[("posterior", "h2")] = genetic / (total + self.sigma2_e(states))
        return out

    # ------------------------------------------------------------------ user API
    def sample(
        self, draws: int = 1000, burn: int = 500, thin: int = 1, chains: int = 4, seed=None,
        progress: bool = True, store: str = "full", cores: int | None = None,
    ):
        """Run the Gibbs sampler and return an ``arviz.InferenceData``.

        Parameters
        ----------
        draws : int
            Draws kept per chain (after burn-in and thinning).
        burn : int
            Iterations discarded at the start of each chain.
        thin : int
            Keep every ``thin``-th iteration after burn-in.
        chains : int
            Independent chains, each with its own generator from
            ``SeedSequence(seed).spawn(chains)``.
        seed : int or None
            Same seed, same draws, whether chains run serially or in parallel. With
            None, fresh entropy is used and stored in ``idata.attrs["seed"]``.
        progress : bool
            Show a progress bar (tqdm, on stderr).
        store : {"full", "summary"}
            "summary" keeps per-animal/per-marker/per-record vectors only as posterior
            mean and sd (group ``posterior_summary``) and skips the log-likelihood.
        cores : int or None
            Threads running chains at once (default: all cores, at most ``chains``).

        Interrupting (Ctrl-C) returns the draws made so far in every chain.
        """
        from ..output.inference_data import to_inference_data
        from ..sampler.driver import run_chains

        result = run_chains(self, draws=draws, burn=burn, thin=thin, chains=chains, seed=seed,
                            progress=progress, store=store, cores=cores)
        return to_inference_data(self, result)

    def predict(self, idata, genotypes=None, ids=None, prob: float = 0.95):
        """Posterior mean, sd and central interval of genetic values.

        With ``genotypes`` (marker models): genomic values of those individuals,
        W_new alpha per draw, centred with the training allele frequencies. Without:
        breeding values ``u`` of the pedigree animals ``ids`` (default: all).
        Returns an ``xarray.Dataset`` with ``mean``, ``sd``, ``lower`` and ``upper``.
        """
        from ..prediction.genetic_values import predict_breeding_values, predict_genomic_values

        if genotypes is not None:
            return predict_genomic_values(self, idata, genotypes, prob=prob)
        return predict_breeding_values(self, idata, ids=ids, prob=prob)
