"""A model: records, a list of terms and the residual."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._typing import PriorArg, SeedArg, TraitsArg
from .._validation import check_duplicates, require_columns
from ..likelihoods import FAMILIES
from ..priors.defaults import DEFAULT_R2, PRIOR_RULES
from ..terms.base import BindContext, Term, Variable
from ..terms.location import LocationTerm

if TYPE_CHECKING:
    import arviz as az

    from ..data.genotypes import Genotypes
    from ..data.pedigree import Pedigree
    from ..likelihoods import Likelihood

#: Location samplers a model can use; see ``Model`` and ``bayesgen.sampler.blocks``.
SAMPLERS = ("auto", "single-site", "joint", "pcg", "collapsed")
#: Pointwise log-likelihoods a model can record; see ``Model``.
LOG_LIKELIHOODS = ("marginal", "conditional")
#: ``Model.sample``'s burn-in and number of chains when not given (and not resuming).
DEFAULT_BURN = 500
DEFAULT_CHAINS = 4
#: Largest number of observed records for which replicated phenotypes are kept by default.
POSTERIOR_PREDICTIVE_MAX_RECORDS = 10_000


class Model:
    r"""y = (sum of terms) + e, fitted by Gibbs sampling.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per record, labelled by its index (a flat index; a MultiIndex is an error).
        Rows whose phenotype is NaN are kept: they inform no parameter, and their
        predictions are returned in the InferenceData.
    y : str or list of str
        The phenotype column (numeric; NaN = missing, +-inf is an error), or several for a
        multi-trait model (t x t covariances; a record may miss any subset of its traits: the
        missing ones are drawn from their conditional each iteration, see ``Residual``).
    terms : list of Term
        E.g. ``[Fixed(["sex"]), Random("byear"), Animal("animal", ped)]``. Terms and their
        priors are copied before they are bound, so one term object can serve several
        models and is never modified.
    sigma2_e : VariancePrior, float or None
        Prior on the residual variance (float: fixed; None: default).
    priors : {"default", "bglr"}
        The rule for variance components given no prior: "default" puts a half-t prior
        ``HalfT(3, sd(y))`` on each standard deviation; "bglr" is BGLR's rule (a scaled
        inverse chi-square with 5 df whose mode is a share of Var(y)). See
        ``bayesgen.priors.defaults``.
    sampler : {"auto", "single-site", "joint", "pcg", "collapsed"}
        How fixed, iid and pedigree effects are drawn (marker effects are always swept):
        "single-site" draws them one level at a time with residual updates (plus the
        rescaling move), "joint" all at once from the mixed-model equations by sparse
        Cholesky, "pcg" all at once without a factorisation (perturbation-optimisation: the
        perturbed equations solved by preconditioned conjugate gradients; for pedigrees too
        large to factor; ``bayesgen.sampler.perturbation``), "collapsed" first the variance components with the locations integrated
        out, then the locations jointly. "auto" picks per model (see ``bayesgen.sampler.blocks``).
    log_likelihood : {"marginal", "conditional"}
        The pointwise log-likelihood recorded for ``az.loo``: "marginal" (default) is
        :math:`\log p(y_r \mid y_{-r}, \phi)`, each record's own random and pedigree effects
        integrated out given every other effect and the other records (closed form; see
        ``bayesgen.model.pointwise``); "conditional" is :math:`\log N(y_r \mid \mu_r, \sigma^2_e)`.
    family : str, list of str or a likelihood
        "gaussian" (default); "threshold": a binary or ordered categorical trait on a normal
        liability (probit; 0/1, bool, sorted integer codes or a pandas ordered Categorical;
        residual variance fixed at 1, cut-points sampled; see ``bayesgen.Threshold``);
        "censored": a Gaussian trait with left-, right- or interval-censored records (with
        ``bounds``; see ``bayesgen.Censored``); a list with one family per trait of ``y``:
        Gaussian traits beside one to three "threshold" traits, binary or ordinal, or any number
        of threshold traits alone (their residual variances fixed at 1; an entry may be a
        ``bg.Threshold`` object: ``bayesgen.likelihoods.mixed.Mixed``); one "censored" trait
        (with ``bounds``) beside Gaussian traits, or beside one or two threshold traits and any
        Gaussian traits (``bayesgen.likelihoods.mixed_censored.MixedCensored``); or a likelihood object
        such as ``bg.Threshold(cutpoint_prior=1.0)`` (copied, never modified).
    bounds : (str, str) or None
        With ``family="censored"``, or a "censored" entry in the family list: the columns of each
        record's lower and upper bounds for the censored trait (NaN or ±inf for an open side); its
        ``y`` column holds the exact values (NaN where censored).
    posterior_predictive : bool or None
        Record a replicated phenotype per observed record and draw (group
        ``posterior_predictive``, for ``az.plot_ppc``; with several traits dims ``record`` and
        ``trait``, NaN where the record's trait is not observed, a threshold trait's category).
        None: for one trait with at most 10,000 observed records (several traits: pass True).

    Notes
    -----
    Marker priors keep BGLR's R² rule under both prior rules: a priori the markers explain
    their share of Var(y) (half of it, split between the terms that have a variance).
    ``h2`` is recorded when a term is genetic: the genetic variances over the sum of all
    variance components, per draw (per trait with several traits).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        y: TraitsArg,
        terms: Sequence[Term],
        sigma2_e: PriorArg = None,
        sampler: str = "auto",
        log_likelihood: str = "marginal",
        posterior_predictive: bool | None = None,
        priors: str = "default",
        family: str | Sequence[str] | Likelihood = "gaussian",
        bounds: tuple[str, str] | None = None,
    ):
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
        if len(data) == 0:
            raise ValueError("data is empty: no records.")
        if isinstance(data.index, pd.MultiIndex):
            raise ValueError(
                "data has a MultiIndex; records need one label each. Use data.reset_index() (or set a "
                "single-level index) first."
            )
        traits = [y] if isinstance(y, str) else y
        if not isinstance(traits, (list, tuple)) or not traits or not all(isinstance(v, str) for v in traits):
            raise TypeError(f"y must be a column name or a list of column names, got {y!r}.")
        check_duplicates(list(traits), "trait columns in y")
        require_columns(data, traits, "data")
        likelihood = _likelihood(family, bounds)
        values = likelihood.read_response(data, list(traits))
        observed = ~np.isnan(values)
        for k, name in enumerate(traits):
            if observed[:, k].sum() < 2:
                raise ValueError(f"Phenotype column {name!r} has fewer than 2 observed values.")
        phenotypic_variance = likelihood.response_variance(values)
        for k, name in enumerate(traits):
            if phenotypic_variance[k] == 0:
                raise ValueError(f"Phenotype column {name!r} has no variation.")
        check_duplicates([str(i) for i in data.index], "row labels in data (record ids)")
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(map(repr, SAMPLERS))}, got {sampler!r}.")
        if priors not in PRIOR_RULES:
            raise ValueError(f"priors must be one of {', '.join(map(repr, PRIOR_RULES))}, got {priors!r}.")
        if log_likelihood not in LOG_LIKELIHOODS:
            raise ValueError(
                f"log_likelihood must be one of {', '.join(map(repr, LOG_LIKELIHOODS))}, got {log_likelihood!r}."
            )
        if posterior_predictive is None:
            # several traits: only when asked (records x traits per draw; their chains' draws as before)
            posterior_predictive = (
                observed.shape[1] == 1 and int(observed.any(axis=1).sum()) <= POSTERIOR_PREDICTIVE_MAX_RECORDS
            )
        elif not isinstance(posterior_predictive, (bool, np.bool_)):
            raise TypeError(f"posterior_predictive must be True, False or None, got {posterior_predictive!r}.")

        if isinstance(terms, Term) or not isinstance(terms, (list, tuple)):
            raise TypeError(
                f"terms must be a list of bayesgen terms, got {type(terms).__name__}"
                + (" (wrap a single term in a list: [term])." if isinstance(terms, Term) else ".")
            )
        for t in terms:
            if not isinstance(t, Term):
                raise TypeError(f"Model terms must be bayesgen terms, got {t!r}.")
        # The user's unbound terms and options, so that a model can be rebuilt on other data (CV).
        self._spec = (
            y,
            list(terms),
            sigma2_e,
            dict(sampler=sampler, log_likelihood=log_likelihood, priors=priors, family=family, bounds=bounds),
        )
        terms = [t.copy_for_binding() for t in terms]
        check_duplicates([t.name for t in terms], "term names")
        n_variance = sum(t.has_variance for t in terms)
        share = phenotypic_variance * DEFAULT_R2 / max(n_variance, 1)
        context = BindContext(data, observed, phenotypic_variance, share, traits=list(traits), prior_rule=priors)
        for t in terms:
            t.bind(context)
        likelihood.configure(sigma2_e, posterior_predictive=bool(posterior_predictive))
        likelihood.bind(context, share=phenotypic_variance * (1 - DEFAULT_R2), y=values)

        self.data = data
        self.traits = list(traits)
        self.y_name = traits[0] if len(traits) == 1 else list(traits)
        self.y = values[:, 0] if len(traits) == 1 else values
        self.observed = observed[:, 0] if len(traits) == 1 else observed
        # The working response's weights: with several traits a record with any trait observed
        # enters with all of them, the missing ones augmented by the residual term.
        self._observed_matrix = (
            observed if len(traits) == 1 else np.repeat(observed.any(axis=1, keepdims=True), len(traits), axis=1)
        )
        self.terms: list[Term] = terms + [likelihood]
        self.likelihood = likelihood
        self.sampler = sampler
        self.log_likelihood = log_likelihood
        # Location terms with one level per record (iid, pedigree, a kernel's precision route) and a
        # prior on their effects: their record's own effect can be integrated out of its likelihood.
        own = [
            (k, t)
            for k, t in enumerate(terms)
            if isinstance(t, LocationTerm) and t.own_levels() is not None and t.level_precision() is not None
        ]
        self.integrated_likelihood = None
        if log_likelihood == "marginal" and own:
            from .pointwise import IntegratedLikelihood

            self.integrated_likelihood = IntegratedLikelihood(
                [t for _, t in own], [k for k, _ in own], self._observed_matrix[:, 0].astype(np.float64)
            )
        self._genetic = [t for t in terms if t.genetic]
        self._variance_terms = [t for t in terms if t.has_variance]
        from ..sampler.blocks import build_blocks

        self.blocks = build_blocks(self, sampler)
        self._check_variable_names()
        self.last_run = None

    @property
    def n_traits(self) -> int:
        return len(self.traits)

    @property
    def residual(self):
        """The likelihood (the owner of the residual); the name of earlier releases."""
        return self.likelihood

    #: The formula of a model built by :meth:`from_formula` or ``bg.fit`` (printed back by repr), else None.
    formula: str | None = None

    @classmethod
    def from_formula(
        cls,
        formula: str | Sequence[str],
        data: pd.DataFrame,
        pedigree: Pedigree | None = None,
        genotypes: Genotypes | None = None,
        priors: dict[str, Any] | str | None = None,
        kernels: dict[str, Any] | None = None,
        **model_options: Any,
    ) -> Model:
        """The model of a formula, as lme4/brms write it: ``bwt ~ sex + (1|byear) + animal(id)``.

        Parameters
        ----------
        formula : str or list of str
            ``y ~ fixed + (1|g) + (1 + x|g) + (1 + x||g) + animal(id) + maternal(id, dam)
            + markers(id, prior="BayesCpi") + kernel(id, K)``; several traits as
            ``cbind(a, b) ~ trait:sex + ...`` or a list of one formula per trait with the same
            terms. The grammar and what each piece builds: :mod:`bayesgen.model.formula`.
        data : DataFrame
        pedigree : Pedigree, optional
            For ``animal(...)`` and ``maternal(...)``.
        genotypes : Genotypes, optional
            For ``markers(...)``.
        priors : dict or str, optional
            ``{term or variance name: prior}`` (``{"byear": bg.ScaledInvChi2(4, 0.5), "sigma2_e": 1.0,
            "markers": bg.BayesCPrior(pi=0.1)}``; ``"beta"``: Fixed's ``prior``; ``"rule"``: the rule for
            default priors, ``Model``'s ``priors=``), or that rule alone (a str).
        kernels : dict, optional
            Matrices named in ``kernel(id, K)``; by default they are looked up among the caller's
            variables.
        **model_options
            Passed to :class:`Model` (``sigma2_e``, ``sampler``, ``family``, ...).

        Notes
        -----
        Errors in the formula are :class:`bayesgen.model.formula.FormulaError` (a ``ValueError``)
        naming the token at fault. ``repr(model)`` prints the formula back.
        """
        from .formula import caller_namespace

        return cls.formula_model(
            formula, data, pedigree, genotypes, priors, kernels, env=caller_namespace(1), **model_options
        )

    @classmethod
    def formula_model(cls, formula, data, pedigree, genotypes, priors, kernels, env, **model_options) -> Model:
        """``from_formula`` with the caller's variables ``env`` given (``bg.fit`` passes its caller's)."""
        from .formula import model_arguments

        arguments, text = model_arguments(formula, data, pedigree, genotypes, priors, kernels, env, **model_options)
        model = cls(**arguments)
        model.formula = text
        return model

    # ------------------------------------------------------------------ description
    def __repr__(self) -> str:
        n_obs = int(self._observed_matrix.any(axis=1).sum())
        if self.formula is not None:
            return f"Model({self.formula}; {n_obs} records observed of {len(self.data)})"
        parts = " + ".join(type(t).__name__ + f"({t.name})" for t in self.terms[:-1])
        return f"Model({self.y_name} ~ {parts} + e; {n_obs} records observed of {len(self.data)})"

    def describe(self) -> dict:
        return {
            "y": self.y_name,
            "terms": [t.describe() for t in self.terms],
            "sampler": [b.describe() for b in self.blocks],
        }

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
            if self.n_traits == 1:
                out.append(Variable("h2"))
            else:
                out.append(Variable("h2", ("trait",), {"trait": self.traits}))
            out += self.likelihood.heritability_variables()
        out += [v for b in self.blocks for v in b.info_variables()]
        out.append(Variable("seconds", group="sample_stats"))
        out.append(Variable("log_prior", group="sample_stats"))
        return out

    def _check_variable_names(self) -> None:
        keys = [(v.group, v.name) for v in self.variables()]
        check_duplicates([f"{g}/{n}" for g, n in keys], "recorded variable names (rename a term)")
        dims: dict[str, tuple] = {}
        for v in self.variables():
            for d in v.dims:
                if d in dims and list(dims[d]) != list(v.coords[d]):
                    raise ValueError(f"Dimension {d!r} is used by two terms with different coordinates.")
                dims[d] = v.coords[d]

    def heritability(self, states):
        """Genetic over total variance, from each term's variance in ``states`` (per trait)."""
        genetic = sum(np.diag(t.genetic_variance(s)) for t, s in zip(self.terms, states) if t.genetic)
        total = sum(np.diag(t.variance(s)) for t, s in zip(self.terms, states) if t.variance(s) is not None)
        h2 = genetic / total
        return float(h2[0]) if self.n_traits == 1 else h2

    # ------------------------------------------------------------------ user API
    def sample(
        self,
        draws: int = 1000,
        burn: int | None = None,
        thin: int = 1,
        chains: int | None = None,
        seed: SeedArg = None,
        progress: bool = True,
        store: str = "auto",
        cores: int | None = None,
        resume: bool = False,
        check_convergence: bool = True,
        init: str = "auto",
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int | str | None = None,
        client: Any = None,
    ) -> az.InferenceData:
        """Run the Gibbs sampler and return an ``arviz.InferenceData``.

        Parameters
        ----------
        draws : int
            Draws kept per chain (after burn-in and thinning).
        burn : int, default 500
            Iterations discarded at the start of each chain (None: 500, or with ``resume``
            the run's own).
        thin : int
            Keep every ``thin``-th iteration after burn-in.
        chains : int, default 4
            Independent chains, each with its own generator from
            ``SeedSequence(seed).spawn(chains)`` (None: 4, or with ``resume`` the run's own).
        seed : int or None
            Same seed, same draws, whether chains run serially or in parallel. With
            None, fresh entropy is used and stored in ``idata.attrs["seed"]``.
        progress : bool
            Show a progress bar (tqdm, on stderr).
        store : {"auto", "full", "summary"}
            "summary" keeps per-animal/per-marker/per-record vectors only as posterior
            mean and sd (group ``posterior_summary``) and skips the log-likelihood; "auto"
            keeps full draws while chains x draws x their size stays within
            ``bayesgen.output.store.STORE_BUDGET`` values; beyond, it still keeps the
            pointwise log-likelihood in full when that alone fits (for ``az.loo``) and
            summarises the rest.
        cores : int or None
            Threads running chains at once (default: all cores, at most ``chains``).
        resume : bool
            Continue the chains of this model's previous ``sample()`` call exactly where
            they stopped (same states and generators): two calls of n and m draws give the
            draws of one call of n + m. ``burn``, ``chains`` and ``seed`` are those of the
            run continued: leave them out (a different value is an error). Chains that an
            interrupt stopped before the end of their burn-in (or before they started) first
            run the rest of it, with a warning saying so.
        check_convergence : bool
            Warn (one ``ConvergenceWarning``) naming every scalar parameter with R-hat >
            1.01 or bulk ESS < 400 (Vehtari et al. 2021); see
            ``bayesgen.output.convergence_report``.
        init : {"auto", "reml", "default"}
            Where new chains start: "reml", the locations at their BLUE/BLUP and the
            covariances over-dispersed around their REML estimates (``bg.reml``, once;
            ``bayesgen.classical.start``), for models of location terms and a Gaussian
            likelihood; "default", the terms' own starting values; "auto", "reml" where REML
            is cheap (a Gaussian model of location terms whose mixed-model equations factor
            cheaply; ``bayesgen.classical.start.auto_start``) and succeeds, "default"
            elsewhere. ``idata.attrs["init"]`` records the start used.
        checkpoint : str or path, optional
            Write the run to this file as it goes: every chain's state, generator and draws so
            far, atomically (``bayesgen.sampler.checkpoint``); ``bayesgen.resume(checkpoint,
            model)`` continues it in another process, bit for bit. Not with ``resume=True``.
        checkpoint_every : int, str or datetime.timedelta, optional
            How often each chain writes the checkpoint: an int is iterations (burn-in
            included), a string such as "90s", "10min" or "2h" (or a timedelta) is wall-clock
            time. Default "5min". A killed job loses at most one interval of each chain.
        client : dask.distributed.Client, optional
            Run each chain as a task on the cluster's workers (``pip install bayesgen[dask]``;
            ``bayesgen.sampler.distributed``): the model and its data go to each worker once,
            and the draws are those of a local run with the same seed, bit for bit. Not with
            ``cores``, ``resume=True`` or ``checkpoint``; no progress bar.

        Notes
        -----
        Interrupting (Ctrl-C) returns the draws made so far: chains that kept draws are kept,
        trimmed to a common length (``attrs["interrupted"] = 1``); chains with none yet (never
        started, or still in burn-in) are dropped with a warning. The last states of every
        chain, and the burn-in each has left, are kept in ``model.last_run`` (for ``resume``).
        """
        from ..output.store import high_dimensional_values, resolve_store
        from ..sampler.driver import check_count, run_chains

        if not isinstance(resume, (bool, np.bool_)):
            raise TypeError(f"resume must be True or False, got {resume!r}.")
        writer = None
        if checkpoint is not None:
            from ..sampler.checkpoint import CheckpointWriter  # zipfile, json, ...: only for runs that write one

            writer = (
                checkpoint
                if isinstance(checkpoint, CheckpointWriter)
                else CheckpointWriter(checkpoint, checkpoint_every)
            )
        elif checkpoint_every is not None:
            raise ValueError("checkpoint_every needs checkpoint=, the file to write.")
        if writer is not None and resume:
            raise ValueError(
                "checkpoint= with resume=True: continue a checkpointed run with "
                "bayesgen.resume(path, model), or sample without resume to start a new one."
            )
        if client is not None:
            from ..sampler.distributed import check_client

            check_client(client)
            for argument, value in (("cores", cores), ("checkpoint", writer)):
                if value is not None:
                    raise ValueError(
                        f"{argument}= with client=: the cluster's workers run the chains; leave {argument} out."
                    )
            if resume:
                raise ValueError("resume=True with client=: continue the chains locally (without client).")
        initial = burn_left = None
        if resume:
            last = self.last_run
            if last is None:
                raise ValueError("resume=True needs an earlier sample() call of this model to continue.")
            for argument, value, before in (
                ("chains", chains, len(last.final)),
                ("seed", seed, last.seed_entropy),
                ("burn", burn, last.burn),
            ):
                if value is not None and not (isinstance(value, (int, np.integer)) and value == before):
                    raise ValueError(
                        f"{argument}={value!r} conflicts with the run resume=True continues, which has "
                        f"{argument}={before}: leave {argument} out to continue that run, or sample without "
                        "resume to start new chains."
                    )
            initial, burn_left, burn = last.final, last.burn_left, last.burn
        if init not in ("auto", "default", "reml"):
            raise ValueError(f"init must be 'auto', 'default' or 'reml', got {init!r}.")
        from ..sampler.blas_threads import single_threaded_blas

        # One BLAS thread from the REML start to the last chain, set once: threadpoolctl's scan of
        # the loaded libraries costs about 10 ms a time, and the start and the chains would each
        # set it again (the inner settings see this one and leave it; blas_threads).
        with single_threaded_blas():
            start = None
            if init == "reml":
                if resume:
                    raise ValueError("init='reml' starts new chains; resume=True continues old ones: pass one of them.")
                from ..classical.start import reml_start

                start = reml_start(self)
            elif init == "auto" and not resume:
                from ..classical.start import auto_start

                start = auto_start(self)
            used = "resume" if resume else ("default" if start is None else "reml")
            burn = DEFAULT_BURN if burn is None else burn
            chains = DEFAULT_CHAINS if chains is None else chains
            draws = check_count(draws, "draws", 1)
            n_chains = len(initial) if initial is not None else check_count(chains, "chains", 1)
            variables = self.variables()
            chosen: str | frozenset = resolve_store(store, high_dimensional_values(variables), draws, n_chains)
            if store == "auto" and chosen == "summary":
                loglik = [v for v in variables if v.group == "log_likelihood"]
                if resolve_store("auto", high_dimensional_values(loglik), draws, n_chains) == "full":
                    chosen = frozenset(
                        (v.group, v.name) for v in variables if v.high_dimensional and v.group != "log_likelihood"
                    )
            if client is not None:
                from ..sampler.distributed import run_chains_distributed

                result = run_chains_distributed(
                    client, self, draws=draws, burn=burn, thin=thin, chains=chains, seed=seed, store=chosen, start=start
                )
            else:
                result = run_chains(
                    self,
                    draws=draws,
                    burn=burn,
                    thin=thin,
                    chains=chains,
                    seed=seed,
                    progress=progress,
                    store=chosen,
                    cores=cores,
                    initial=initial,
                    burn_left=burn_left,
                    start=start,
                    checkpoint=writer,
                )
        idata = self._finish(result, check_convergence)
        idata.attrs["init"] = used
        return idata

    def _finish(self, result, check_convergence: bool):
        """Keep ``result`` for ``resume=True`` and return its InferenceData (after the convergence check)."""
        from ..output.convergence import warn_if_not_converged
        from ..output.inference_data import to_inference_data

        self.last_run = result
        idata = to_inference_data(self, result)
        if check_convergence:
            warn_if_not_converged(idata)
        return idata

    def predict(self, idata, genotypes=None, ids=None, at=None, prob: float = 0.95, parents=None, seed: SeedArg = 0):
        """Posterior mean, sd and central interval of genetic values.

        With ``genotypes`` (marker models): genomic values of those individuals,
        W_new alpha per draw, centred with the training allele frequencies. Without: the
        genetic values of the levels ``ids`` (default: all) of the genetic term: breeding
        values of pedigree animals (direct and maternal ones for a direct–maternal term, dim
        ``effect``), genetic values of a kernel's ids; for a random regression its
        coefficients, or with ``at`` (``{covariate: values}``) its curve at those values
        (dim ``at``). With ``parents`` (a DataFrame with columns id, sire, dam, or a mapping
        ``{id: (sire, dam)}``): animals born after the fit, per draw the mean of their parents'
        values plus a Mendelian sampling term drawn with ``seed`` (``bayesgen.prediction.parents``);
        with single-step regression ``genotypes`` may come too, for the new animals that have them.
        Returns an ``xarray.Dataset`` with ``mean``, ``sd``, ``lower`` and ``upper``.
        """
        from ..prediction.genetic_values import predict

        return predict(self, idata, genotypes=genotypes, ids=ids, at=at, prob=prob, parents=parents, seed=seed)


def _likelihood(family, bounds):
    """A fresh, unbound likelihood for ``family`` (a name of ``FAMILIES`` or a likelihood object,
    copied so that the user's is never modified), with ``bounds`` for censored traits."""
    import copy

    from ..likelihoods import Likelihood

    if isinstance(family, (list, tuple)):
        from ..likelihoods.mixed import Mixed

        if "censored" in list(family):
            if bounds is None:
                raise TypeError("family lists a 'censored' trait: give its bounds=(lower_column, upper_column).")
            others = [f for f in family if f != "censored"]
            if len(others) == len(family) - 1 and all(isinstance(f, str) and f == "gaussian" for f in others):
                return FAMILIES["censored"](bounds=bounds, trait=list(family).index("censored"))
            from ..likelihoods.mixed_censored import MixedCensored

            return MixedCensored(list(family), bounds=bounds)
        if bounds is not None:
            raise ValueError("bounds= is for a 'censored' trait (family='censored' or one in the family list).")
        return Mixed(list(family))
    if isinstance(family, Likelihood):
        if bounds is not None:
            raise ValueError("bounds= goes with family='censored'; a likelihood object carries its own bounds.")
        return copy.deepcopy(family)
    if not isinstance(family, str) or family not in FAMILIES:
        raise ValueError(
            f"family must be one of {', '.join(map(repr, FAMILIES))} or a likelihood object, got {family!r}."
        )
    if bounds is not None:
        if family != "censored":
            raise ValueError(
                f"bounds= is for family='censored' (lower and upper bound columns), not family={family!r}."
            )
        return FAMILIES[family](bounds=bounds)
    return FAMILIES[family]()
