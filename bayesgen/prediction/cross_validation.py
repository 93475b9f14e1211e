"""K-fold cross-validation by refitting a model with the test fold's phenotypes masked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._typing import SeedArg
from .._validation import preview

if TYPE_CHECKING:
    from ..model.model import Model

#: ``Model.sample`` arguments that ``**sample_kwargs`` may pass to each refit.
REFIT_ARGUMENTS = ("thin", "cores", "check_convergence")
#: Columns of the table ``cross_validate`` returns, one row per fold and repeat.
FOLD_COLUMNS = ("repeat", "fold", "n_test")


def cross_validate(
    model: Model,
    folds: int | str = 5,
    *,
    repeats: int = 1,
    seed: SeedArg = None,
    draws: int = 1000,
    burn: int = 500,
    chains: int | None = None,
    prob: float = 0.95,
    progress: bool = True,
    client: Any = None,
    trait: str | None = None,
    mask: str = "trait",
    **sample_kwargs: Any,
) -> pd.DataFrame:
    r"""Cross-validate ``model``: refit it once per fold with that fold's phenotypes masked.

    The model is rebuilt from the user's own (unbound) terms and options with the test
    records' phenotypes set to NaN, so every data-dependent default (prior scales, the
    centring of the markers' var_g, default priors) comes from the training records
    only; then it is sampled and the posterior of the linear predictor
    :math:`\mu_r = x_r'\beta + z_r'u + w_r'\alpha + \dots` of each test record is read
    from ``idata.predictions["mu"]``.

    Parameters
    ----------
    model : Model
        A model of one trait (e.g. from ``bg.BayesA``, ``bg.AnimalModel``, ``bg.Model``) or of
        several (then ``trait`` names the one scored). Only records with an observed phenotype
        (of ``trait``) are assigned to folds; records already missing stay missing in every
        refit and are not scored.
    folds : int or str
        An integer k >= 2: random folds, balanced (sizes differ by at most one), drawn
        from ``seed``, a new partition per repeat. A column name of ``model.data``: its
        values label the folds (e.g. the sets shipped with the wheat data); every record
        with a phenotype needs a label.
    repeats : int
        Independent random partitions (only with an integer ``folds``).
    seed : int >= 0 or None
        Seeds the partitions and every refit (same seed, same table). None draws fresh
        entropy, stored in ``attrs["seed"]``.
    draws, burn, chains, progress, **sample_kwargs
        Passed to ``Model.sample`` for each refit (``thin``, ``cores``, ``check_convergence``,
        which is off by default here). ``chains`` and ``progress`` have ``Model.sample``'s
        defaults (None: 4 chains; a progress bar per refit, on stderr).
    prob : float
        Probability of the central interval of each prediction.
    trait : str, optional
        With several traits, the trait whose held-out records are scored (required); with one,
        None or its name.
    mask : "trait" or "record"
        With several traits, what a test record loses in its fold's refit: its phenotype of
        ``trait`` only (default: its other traits stay, as when an early or cheap trait helps
        predict the target one), or every trait (a new animal with no record at all).
    client : dask.distributed.Client, optional
        Run each fold's refit as a task on the cluster's workers (``pip install
        bayesgen[dask]``): the data and the terms (genotypes, pedigree) go to each worker once;
        the table is the one a local run with the same seed gives, bit for bit.

    Returns
    -------
    pandas.DataFrame
        One row per (repeat, fold): ``n_test``, ``accuracy`` = Pearson r(:math:`\hat y`, y),
        ``slope`` of the regression of y on :math:`\hat y` (1 = unbiased scale; < 1 =
        over-dispersed predictions) and ``mse`` = mean (y - :math:`\hat y`)², where
        :math:`\hat y` is the posterior mean of :math:`\mu`. For threshold traits
        (``family="threshold"``, or a threshold ``trait`` among several) the columns are
        ``auc`` (binary traits) and ``log_score`` instead (``bayesgen.likelihoods.Threshold.cv_scores``); ``y`` is
        then the category code and ``mean`` etc. summarise the liability mean. Censored records of
        a test fold are masked with their bounds (missing in the refit). ``attrs["predictions"]`` is a
        DataFrame of every held-out record: repeat, fold, ``record`` (the label of the row
        in ``model.data``), the id column of each genetic term (e.g. the Markers' id
        column), ``y``, ``mean``, ``sd``, ``lower`` and ``upper`` of :math:`\mu`.
        ``attrs["seed"]`` is the seed used.

    Each refit records only what is needed: the test records' :math:`\mu` in full, the
    other per-record and per-marker vectors as running summaries, no posterior-predictive
    replicates, and the conditional (cheap) pointwise log-likelihood.
    """
    from ..model.model import Model

    if not isinstance(model, Model):
        raise TypeError(f"model must be a bayesgen Model, got {type(model).__name__}.")
    target = _scored_trait(model, trait)
    if mask not in ("trait", "record"):
        raise ValueError(f"mask must be 'trait' or 'record', got {mask!r}.")
    spec = getattr(model, "_spec", None)
    if spec is None:
        raise ValueError("This model keeps no record of its terms (built by an older bayesgen); rebuild it.")
    y_name, terms, sigma2_e, options = spec
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}.")
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob!r}.")
    for key in ("seed", "store", "resume"):
        if key in sample_kwargs:
            raise TypeError(f"cross_validate sets {key!r} itself; it cannot be passed to the refits.")
    unknown = [key for key in sample_kwargs if key not in REFIT_ARGUMENTS]
    if unknown:  # checked here, before any refit, and named as the user's own call
        raise TypeError(
            f"cross_validate() got unexpected keyword argument(s) {preview(unknown)}; besides its own, "
            f"it passes {', '.join(REFIT_ARGUMENTS)} to Model.sample for each refit."
        )
    observed = model.observed if model.n_traits == 1 else model.observed[:, target]
    observed_rows = np.flatnonzero(observed)
    seed_sequence = np.random.SeedSequence(seed)
    if isinstance(folds, str):
        if repeats != 1:
            raise ValueError(
                f"repeats={repeats} with the fold column {folds!r}: the folds are fixed, so repeats would only "
                "repeat Monte Carlo noise; use an integer number of folds for repeated random partitions."
            )
        partitions = [_labelled_folds(model, folds, observed_rows)]
    else:
        partitions = [
            _random_folds(folds, observed_rows, rng)
            for rng in (np.random.default_rng(s) for s in seed_sequence.spawn(repeats))
        ]
    sampling_seeds = seed_sequence.generate_state(sum(len(p) for p in partitions), dtype=np.uint32)

    id_columns = [t.column for t in terms if t.genetic and isinstance(getattr(t, "column", None), str)]
    id_columns = list(dict.fromkeys(id_columns))
    jobs = [(repeat, label, test) for repeat, partition in enumerate(partitions, start=1) for label, test in partition]
    refit_options = dict(draws=draws, burn=burn, chains=chains, progress=progress, **sample_kwargs)
    masked = [target] if mask == "trait" else list(range(model.n_traits))
    spec = (model.data, y_name, terms, sigma2_e, options, model.y, model.likelihood, target, masked)
    if client is not None:
        from ..sampler.distributed import check_client, map_on_cluster

        check_client(client)
        refit_options["progress"] = False
        # data, terms, genotypes: once per worker
        results = map_on_cluster(
            client, spec, _refit, [(test, int(sampling_seeds[k]), refit_options) for k, (_, _, test) in enumerate(jobs)]
        )
    else:
        results = [_refit(spec, test, int(sampling_seeds[k]), refit_options) for k, (_, _, test) in enumerate(jobs)]
    rows, predictions = [], []
    values = model.y if model.n_traits == 1 else model.y[:, target]
    for (repeat, label, test), (mu, scores) in zip(jobs, results):
        y = values[test]
        mean = mu.mean(axis=0)
        rows.append((repeat, label, test.size, *scores))
        lower, upper = np.quantile(mu, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
        frame = pd.DataFrame({"repeat": repeat, "fold": [label] * test.size, "record": model.data.index[test]})
        for column in id_columns:
            frame[column] = model.data[column].to_numpy()[test]
        frame["y"] = y
        frame["mean"] = mean
        frame["sd"] = mu.std(axis=0, ddof=1) if mu.shape[0] > 1 else np.nan
        frame["lower"], frame["upper"] = lower, upper
        predictions.append(frame)
    table = pd.DataFrame(rows, columns=list(FOLD_COLUMNS) + list(model.likelihood.cv_columns_of(target)))
    table.attrs["predictions"] = pd.concat(predictions, ignore_index=True)
    table.attrs["seed"] = seed_sequence.entropy
    table.attrs["prob"] = prob
    table.attrs["trait"] = model.traits[target]
    return table


def _scored_trait(model, trait) -> int:
    """Position of the trait ``cross_validate`` scores (``trait``; the only one when None)."""
    if trait is None:
        if model.n_traits != 1:
            raise ValueError(
                f"cross_validate scores one trait of a model of several: pass trait= one of {model.traits}."
            )
        return 0
    if trait not in model.traits:
        raise ValueError(f"trait={trait!r} is not a trait of this model ({model.traits}).")
    return model.traits.index(trait)


def _random_folds(folds, observed_rows: np.ndarray, rng: np.random.Generator) -> list:
    """Balanced random folds 1..k of the observed rows: (label, sorted row positions) pairs."""
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)):
        raise TypeError(f"folds must be an integer >= 2 or the name of a column of fold labels, got {folds!r}.")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}.")
    if folds > observed_rows.size:
        raise ValueError(f"folds={folds} is more than the {observed_rows.size} records with a phenotype.")
    assignment = np.empty(observed_rows.size, dtype=np.int64)
    assignment[rng.permutation(observed_rows.size)] = np.arange(observed_rows.size) % folds
    return [(f + 1, observed_rows[assignment == f]) for f in range(folds)]


def _labelled_folds(model, column: str, observed_rows: np.ndarray) -> list:
    """Folds given by a column of labels, in sorted label order: (label, row positions) pairs."""
    data = model.data
    if column not in data.columns:
        raise ValueError(
            f"Fold column {column!r} not found in the model's data (columns: {preview(list(data.columns))})."
        )
    observed = np.zeros(len(data), dtype=bool)
    observed[observed_rows] = True
    missing = data[column].isna().to_numpy()
    unlabelled = data.index[missing & observed]
    if len(unlabelled):
        raise ValueError(
            f"Fold column {column!r} has missing values in rows {preview(list(unlabelled))} "
            "(records with a phenotype need a fold)."
        )
    values = data[column].to_numpy()
    levels = sorted(pd.unique(values[~missing]), key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        raise ValueError(
            f"Fold column {column!r} has {len(levels)} distinct value(s); cross-validation needs 2 or more."
        )
    out, empty = [], []
    for level in levels:
        rows = np.flatnonzero((values == level) & observed)
        if rows.size == 0:
            empty.append(level)
        out.append((level.item() if isinstance(level, np.generic) else level, rows))
    if empty:
        raise ValueError(f"Folds of column {column!r} with no record with an observed phenotype: {preview(empty)}.")
    return out


def _refit(spec, test: np.ndarray, seed: int, refit_options: dict) -> tuple:
    """(draws x test records of mu, the likelihood's CV scores) of the model refitted with the
    phenotypes of ``test`` masked (``spec``: data, y, the user's terms, sigma2_e, options, y values and the
    model's likelihood, which reads and masks its own phenotype column)."""
    from ..model.model import Model

    data, y_name, terms, sigma2_e, options, y, likelihood, target, masked = spec
    held_out = np.isin(np.arange(len(data)), test)
    family, bounds = options.get("family", "gaussian"), options.get("bounds")
    # The phenotypes as the model read them (category codes for threshold traits), masked in the
    # fold (a censored record of the test fold is missing in the refit, not censored).
    names = [y_name] if isinstance(y_name, str) else list(y_name)
    data = likelihood.masked_data(data, names, y.reshape(len(data), -1), held_out, masked)
    refit = Model(
        data,
        y_name,
        terms,
        sigma2_e=sigma2_e,
        sampler=options["sampler"],
        priors=options["priors"],
        log_likelihood="conditional",
        posterior_predictive=False,
        family=family,
        bounds=bounds,
    )
    mu, extra = _test_draws(refit, test, target, seed=seed, **refit_options)
    observed = y if y.ndim == 1 else y[:, target]
    return mu, refit.likelihood.cv_scores(mu, observed[test], target, **extra)


def _test_draws(
    refit, test: np.ndarray, target: int, *, draws, burn, chains, seed, progress, **sample_kwargs
) -> tuple[np.ndarray, dict]:
    """Draws (chains x draws flattened) x test records of the linear predictor of trait ``target``
    of ``refit``, keeping only ``predictions/mu`` in full (every other high-dimensional vector
    summarised)."""
    from ..output.inference_data import to_inference_data
    from ..sampler.driver import run_chains

    check_convergence = sample_kwargs.pop("check_convergence", False)
    summarise = frozenset(
        (v.group, v.name)
        for v in refit.variables()
        if v.high_dimensional and (v.group, v.name) != ("predictions", "mu")
    )
    from ..model.model import DEFAULT_CHAINS

    chains = DEFAULT_CHAINS if chains is None else chains
    result = run_chains(
        refit, draws=draws, burn=burn, chains=chains, seed=seed, progress=progress, store=summarise, **sample_kwargs
    )
    idata = to_inference_data(refit, result)
    if check_convergence:
        from ..output.convergence import warn_if_not_converged

        warn_if_not_converged(idata)
    mu = idata.predictions["mu"]
    if "trait" in mu.dims:  # several traits: the records missing any trait, the target's column
        mu = mu.isel(trait=target)
    mu = mu.stack(sample=("chain", "draw")).transpose("sample", "missing_record").values
    missing = np.isnan(refit.y)
    missing_rows = np.flatnonzero(missing if missing.ndim == 1 else missing.any(axis=1))
    if mu.shape[1] != missing_rows.size:  # the residual orders missing records as the data does
        raise RuntimeError(f"predictions/mu has {mu.shape[1]} records, expected {missing_rows.size}.")
    # The likelihood's own parameters its scores need besides mu (a threshold trait's cut-points).
    extra = {}
    if "cutpoints" in idata.posterior:
        extra["cutpoints"] = (
            idata.posterior["cutpoints"].stack(sample=("chain", "draw")).transpose("sample", "cutpoint").values
        )
    return mu[:, np.searchsorted(missing_rows, test)], extra
