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
from dataclasses import dataclass

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


def check_count(value, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def run_chain(gibbs: Gibbs, rng, chain: ChainState, storage: ChainStorage, burn: int, thin: int, draws: int,
              stop: threading.Event, progress_counts: list, index: int) -> None:
    """Run one chain from ``chain`` (updated in place), writing kept draws into ``storage``.

    Returns early, with whole iterations only, when ``stop`` is set.
    """
    total = burn + draws * thin
    for it in range(total):
        if stop.is_set():
            return
        started = time.perf_counter()
        info = gibbs.step(rng, chain, tuning=it < burn)
        if it >= burn and (it - burn) % thin == thin - 1:
            values = gibbs.record(chain, wanted=storage.wanted)
            for key, value in info.items():
                values[("sample_stats", key)] = value
            values[("sample_stats", "seconds")] = time.perf_counter() - started
            storage.write(values)
        progress_counts[index] = it + 1


def run_chains(model, draws=1000, burn=500, thin=1, chains=4, seed=None, progress=True, store="full",
               cores=None, initial=None, burn_left=None) -> SamplerResult:
    """Run ``chains`` chains (in threads; kernels release the GIL; BLAS on one thread) and collect their draws.

    ``initial``: the ``final`` list of an earlier result of the same model, to continue
    those chains exactly (their states and generators), and ``burn_left`` that result's
    ``burn_left``: a chain interrupted before the end of its burn-in (or before it started)
    first runs the rest of it, so that every chain's draws are those of one uninterrupted
    run; the others keep draws at once. ``burn`` is then the continued run's, recorded as is.
    """
    draws = check_count(draws, "draws", 1)
    burn = check_count(burn, "burn", 0)
    thin = check_count(thin, "thin", 1)
    chains = check_count(chains, "chains", 1)
    if seed is not None:
        seed = check_count(seed, "seed", 0)
    gibbs = Gibbs(model)
    if initial is not None:
        chains = len(initial)
        burns = [0] * chains if burn_left is None else [check_count(b, "burn_left", 0) for b in burn_left]
        rngs = [rng for _, rng in initial]
        starts = [state for state, _ in initial]
        seed_entropy = model.last_run.seed_entropy if model.last_run is not None else None
    else:
        seed_sequence = np.random.SeedSequence(seed)
        seed_entropy = seed_sequence.entropy
        rngs = [np.random.default_rng(s) for s in seed_sequence.spawn(chains)]
        starts = [gibbs.init(rng) for rng in rngs]
        burns = [burn] * chains
    unfinished = [c for c in range(chains) if 0 < burns[c] and initial is not None]
    if unfinished:
        warnings.warn(
            f"Resuming: chain(s) {', '.join(map(str, unfinished))} had not finished their burn-in: they run the "
            f"remaining {', '.join(str(burns[c]) for c in unfinished)} iterations of it before keeping draws "
            "(the other chains continue at once).", UserWarning, stacklevel=3)
    cores = min(chains, os.cpu_count() or 1) if cores is None else check_count(cores, "cores", 1)
    variables = model.variables()
    storages = [ChainStorage(variables, draws, store) for _ in range(chains)]
    stop = threading.Event()
    counts = [0] * chains
    total = sum(burns) + chains * draws * thin
    interrupted = False
    bar = _progress_bar(total, progress)
    # One BLAS thread while chains run (see blas_threads: a threaded BLAS makes the small
    # per-iteration products slower, and its pool competes with the chains for the cores).
    with single_threaded_blas(), ThreadPoolExecutor(max_workers=cores, thread_name_prefix="bayesgen-chain") as pool:
        futures = [
            pool.submit(run_chain, gibbs, rngs[c], starts[c], storages[c], burns[c], thin, draws, stop, counts, c)
            for c in range(chains)
        ]
        try:
            pending = futures
            while pending:
                _, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                if bar is not None:
                    bar.update(sum(counts) - bar.n)
                if any(f.done() and f.exception() is not None for f in futures):
                    stop.set()
                    break
        except KeyboardInterrupt:
            stop.set()
            interrupted = True
            wait(futures)
        finally:
            if bar is not None:
                bar.update(sum(counts) - bar.n)
                bar.close()
    for f in futures:
        if f.exception() is not None:
            raise f.exception()
    final = list(zip(starts, rngs))
    # counts[c] iterations ran in this call; the burn-in they did not cover is left for resume.
    burn_left = [max(0, burns[c] - counts[c]) for c in range(chains)]
    kept_chains = list(range(chains))
    if interrupted:
        # Chains still queued when Ctrl-C came never started, others were still in burn-in:
        # drop those with no draw, keep the others (resume=True finishes their burn-in).
        kept_chains = [c for c in range(chains) if storages[c].n > 0]
        if not kept_chains:
            raise KeyboardInterrupt("Sampling interrupted before any draw was kept.")
        kept = min(storages[c].n for c in kept_chains)
        not_started = sum(1 for c in range(chains) if counts[c] == 0)
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
    return SamplerResult([storages[c] for c in kept_chains], kept, seed_entropy, draws, burn, thin, interrupted,
                         final, kept_chains, burn_left)


def _progress_bar(total: int, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Gibbs sampling", unit="it", mininterval=0.5)
