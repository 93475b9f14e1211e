"""The Gibbs driver: seeds, chains in parallel threads, burn-in, thinning, progress, interrupt.

The driver knows nothing about the model's terms: it runs the step interface of
``bayesgen.sampler.gibbs`` and stores what ``record`` returns.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np

from .blas_threads import single_threaded_blas
from .gibbs import ChainState, Gibbs
from .storage import ChainStorage

log = logging.getLogger(__name__)


@dataclass
class SamplerResult:
    chains: list  # ChainStorage per kept chain
    n_draws: int  # draws kept per chain (all chains trimmed to the same number)
    seed_entropy: int
    draws: int
    burn: int
    thin: int
    interrupted: bool
    #: Per chain (all chains, kept or not): (ChainState, np.random.Generator) where it stopped.
    final: list
    chain_ids: list  # index of each kept chain among all chains
    #: Per chain (all chains): iterations of burn-in it had still to run where it stopped (0 unless
    #: interrupted before the end of its burn-in; a chain that never started has all of ``burn``).
    burn_left: list
    #: Chains stopped by a numerical failure: ChainFailure per such chain (kept or not).
    failures: list = field(default_factory=list)


@dataclass
class ChainFailure:
    """Where and why a chain stopped on a numerical error (see ``run_chain``)."""

    chain: int
    iteration: int  # the iteration that failed, counted from 0 including burn-in
    draws: int  # draws the chain had kept before it
    error: BaseException

    def describe(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"


def check_count(value, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def numerical_errors() -> tuple:
    """The exceptions that stop one chain, not the run: a numerical failure of that chain's
    state (a factorisation that fails, a singular or overflowing matrix) says nothing about the
    other chains, whose draws are kept. Anything else (a bug) still ends the run."""
    from ..kernels.cholesky import NotPositiveDefiniteError

    return NotPositiveDefiniteError, np.linalg.LinAlgError, ArithmeticError


def run_chain(
    gibbs: Gibbs,
    rng,
    chain: ChainState,
    storage: ChainStorage,
    burn: int,
    thin: int,
    draws: int,
    stop: threading.Event,
    progress_counts: list,
    index: int,
    start: int = 0,
    checkpoint=None,
) -> ChainFailure | None:
    """Run one chain from ``chain`` (updated in place), writing kept draws into ``storage``.

    The chain's schedule is ``burn + draws * thin`` iterations, of which the first ``start``
    have run already (a chain restored from a checkpoint: ``storage`` holds their draws).
    Returns early, with whole iterations only, when ``stop`` is set. A numerical failure
    (``numerical_errors``) stops this chain only: it returns a :class:`ChainFailure` with the
    draws kept so far in ``storage`` (the chain's state as the failed step left it: the
    steps that can fail so raise before changing it). ``checkpoint``: a
    ``CheckpointWriter``, given the chain after every iteration (it writes when due).
    """
    total = burn + draws * thin
    failures = numerical_errors()
    for it in range(start, total):
        if stop.is_set():
            return None
        started = time.perf_counter()
        try:
            info = gibbs.step(rng, chain, tuning=it < burn)
        except failures as err:
            return ChainFailure(index, it, storage.n, err)
        if it >= burn and (it - burn) % thin == thin - 1:
            values = gibbs.record(chain, wanted=storage.wanted)
            for key, value in info.items():
                values[("sample_stats", key)] = value
            values[("sample_stats", "seconds")] = time.perf_counter() - started
            storage.write(values)
        progress_counts[index] = it + 1
        if checkpoint is not None:
            checkpoint.after_iteration(index, it + 1, chain, rng, storage, burn, gibbs.model.blocks)
    return None


def run_chains(
    model,
    draws=1000,
    burn=500,
    thin=1,
    chains=4,
    seed=None,
    progress=True,
    store="full",
    cores=None,
    initial=None,
    burn_left=None,
    start=None,
    checkpoint=None,
    restored=None,
    seed_entropy=None,
) -> SamplerResult:
    """Run ``chains`` chains (in threads; kernels release the GIL; BLAS on one thread) and collect their draws.

    ``initial``: the ``final`` list of an earlier result of the same model, to continue
    those chains exactly (their states and generators), and ``burn_left`` that result's
    ``burn_left``: a chain interrupted before the end of its burn-in (or before it started)
    first runs the rest of it, so that every chain's draws are those of one uninterrupted
    run; the others keep draws at once. ``burn`` is then the continued run's, recorded as is.
    ``start``: new chains start around these estimates (``Gibbs.init``), e.g. REML's.

    ``checkpoint``: a ``bayesgen.sampler.checkpoint.CheckpointWriter``: every chain is written
    at its start, when its interval is up and when the run stops. ``restored``: the chains of
    a checkpoint (``RestoredChain``: state, generator, storage holding its draws, iterations
    run), continued to ``draws`` draws each (their total, old and new), with the run's
    ``seed_entropy``.
    """
    draws = check_count(draws, "draws", 1)
    burn = check_count(burn, "burn", 0)
    thin = check_count(thin, "thin", 1)
    chains = check_count(chains, "chains", 1)
    if seed is not None:
        seed = check_count(seed, "seed", 0)
    gibbs = Gibbs(model)
    storages = None
    if restored is not None:
        chains = len(restored)
        rngs = [r.rng for r in restored]
        starts = [r.chain for r in restored]
        storages = [r.storage for r in restored]
        burns = [r.burn for r in restored]
        offsets = [r.done for r in restored]
    elif initial is not None:
        chains = len(initial)
        burns = [0] * chains if burn_left is None else [check_count(b, "burn_left", 0) for b in burn_left]
        rngs = [rng for _, rng in initial]
        starts = [state for state, _ in initial]
        seed_entropy = model.last_run.seed_entropy if model.last_run is not None else None
    else:
        seed_sequence = np.random.SeedSequence(seed)
        seed_entropy = seed_sequence.entropy
        rngs = [np.random.default_rng(s) for s in seed_sequence.spawn(chains)]
        # Gibbs.init(rng) unless there is a start: the one-argument call is the step interface's.
        # One BLAS thread here too: a block's set-up (the collapsed block's Laplace approximation,
        # dozens of factorisations and selected inverses) is as small-BLAS-bound as its steps
        # (gryphon bivariate at load 6: 18 ms per selected inverse against 474 ms threaded).
        with single_threaded_blas():
            starts = [gibbs.init(rng) if start is None else gibbs.init(rng, start) for rng in rngs]
        burns = [burn] * chains
    if restored is None:
        offsets = [0] * chains  # iterations each chain has run already
    unfinished = [c for c in range(chains) if 0 < burns[c] and initial is not None]
    if unfinished:
        warnings.warn(
            f"Resuming: chain(s) {', '.join(map(str, unfinished))} had not finished their burn-in: they run the "
            f"remaining {', '.join(str(burns[c]) for c in unfinished)} iterations of it before keeping draws "
            "(the other chains continue at once).",
            UserWarning,
            stacklevel=3,
        )
    cores = min(chains, os.cpu_count() or 1) if cores is None else check_count(cores, "cores", 1)
    if storages is None:
        variables = model.variables()
        storages = [ChainStorage(variables, draws, store) for _ in range(chains)]
    stop = threading.Event()
    counts = list(offsets)
    total = sum(burns) + chains * draws * thin - sum(offsets)
    if checkpoint is not None:
        from .checkpoint import store_to_json

        checkpoint.start(
            model,
            {
                "draws": draws,
                "burn": burn,
                "thin": thin,
                "chains": chains,
                "seed_entropy": int(seed_entropy),
                "store": store_to_json(store),
            },
        )
        _write_checkpoint(checkpoint, gibbs, starts, rngs, storages, counts, burns)
    interrupted = False
    bar = _progress_bar(total, progress)
    # One BLAS thread while chains run (see blas_threads: a threaded BLAS makes the small
    # per-iteration products slower, and its pool competes with the chains for the cores).
    with single_threaded_blas(), ThreadPoolExecutor(max_workers=cores, thread_name_prefix="bayesgen-chain") as pool:
        futures = [
            pool.submit(
                run_chain,
                gibbs,
                rngs[c],
                starts[c],
                storages[c],
                burns[c],
                thin,
                draws,
                stop,
                counts,
                c,
                offsets[c],
                checkpoint,
            )
            for c in range(chains)
        ]
        try:
            pending = futures
            while pending:
                _, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                if bar is not None:
                    bar.update(sum(counts) - bar.n - sum(offsets))
                if any(f.done() and f.exception() is not None for f in futures):
                    stop.set()
                    break
        except KeyboardInterrupt:
            stop.set()
            interrupted = True
            wait(futures)
        finally:
            if bar is not None:
                bar.update(sum(counts) - bar.n - sum(offsets))
                bar.close()
    if checkpoint is not None:
        # Every chain where it stopped (finished, interrupted, failed): a resume continues from there.
        _write_checkpoint(checkpoint, gibbs, starts, rngs, storages, counts, burns)
    for f in futures:
        if f.exception() is not None:
            raise f.exception()
    final = list(zip(starts, rngs))
    # counts[c] iterations ran in this call; the burn-in they did not cover is left for resume.
    burn_left = [max(0, burns[c] - counts[c]) for c in range(chains)]
    kept_chains = list(range(chains))
    failures = [f.result() for f in futures if f.done() and f.result() is not None]
    if failures and not interrupted:
        kept_chains, kept = _keep_after_failures(storages, failures, draws)
    elif interrupted:
        # Chains still queued when Ctrl-C came never started, others were still in burn-in:
        # drop those with no draw, keep the others (resume=True finishes their burn-in).
        kept_chains = [c for c in range(chains) if storages[c].n > 0]
        if not kept_chains:
            raise KeyboardInterrupt("Sampling interrupted before any draw was kept.")
        kept = min(storages[c].n for c in kept_chains)
        not_started = sum(1 for c in range(chains) if counts[c] == offsets[c] == 0)
        no_draw_yet = chains - len(kept_chains) - not_started
        message = f"Sampling interrupted: returning the first {kept} draws of {len(kept_chains)} chain(s)"
        if not_started:
            message += f"; {not_started} chain(s) that had not started were dropped"
        if no_draw_yet:
            message += f"; {no_draw_yet} chain(s) that had kept no draw yet (in burn-in) were dropped"
        if not_started or no_draw_yet:
            message += " (resume=True runs them through the rest of their burn-in)"
        warnings.warn(message + ".", UserWarning, stacklevel=3)
    else:
        kept = draws
    return SamplerResult(
        [storages[c] for c in kept_chains],
        kept,
        seed_entropy,
        draws,
        burn,
        thin,
        interrupted,
        final,
        kept_chains,
        burn_left,
        failures,
    )


def _write_checkpoint(checkpoint, gibbs, chains, rngs, storages, counts, burns) -> None:
    for c, chain in enumerate(chains):
        checkpoint.snapshot(c, chain, rngs[c], storages[c], counts[c], burns[c], gibbs.model.blocks)
    checkpoint.save()


def _keep_after_failures(storages, failures, draws: int) -> tuple[list, int]:
    """The chains and the common length kept when some chains stopped on a numerical failure.

    Of the rectangles "every chain with at least L draws, trimmed to L", the one with the most
    draws (ties: the one with more chains): a chain that failed late is kept and the others
    are trimmed to its length (as after Ctrl-C), one that failed early is left out so that the
    others keep their draws. Warns naming each failed chain, its iteration and error.
    """
    lengths = [s.n for s in storages]
    candidates = sorted({n for n in lengths if n > 0}, reverse=True)
    if not candidates:
        details = "; ".join(f"chain {f.chain} at iteration {f.iteration}: {f.describe()}" for f in failures)
        raise RuntimeError(f"Every chain stopped before keeping a draw ({details}).") from failures[0].error
    kept = max(candidates, key=lambda n: (n * sum(m >= n for m in lengths), -n))
    kept_chains = [c for c, n in enumerate(lengths) if n >= kept]
    parts = []
    for f in failures:
        fate = "kept" if f.chain in kept_chains else "left out"
        parts.append(
            f"chain {f.chain} stopped at iteration {f.iteration} after {f.draws} of {draws} draws "
            f"({f.describe()}); its draws are {fate}"
        )
    left_out = [c for c in range(len(storages)) if c not in kept_chains]

    def chains_named(ids):
        return ("chain " if len(ids) == 1 else "chains ") + ", ".join(map(str, ids))

    message = (
        "A numerical failure stopped some chains: "
        + "; ".join(parts)
        + f". Returning {kept} draws of each of {chains_named(kept_chains)}"
    )
    if left_out:
        message += f" ({chains_named(left_out)} left out, so that the others keep their draws)"
    warnings.warn(message + ".", UserWarning, stacklevel=4)
    return kept_chains, kept


def _progress_bar(total: int, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Gibbs sampling", unit="it", mininterval=0.5)
