"""The Gibbs driver: seeds, chains in parallel threads, burn-in, thinning, progress, interrupt.

The driver knows nothing about the model's terms beyond the protocol in
``bayesgen.terms.base``: each iteration calls every term's ``step`` in turn.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from .storage import ChainStorage

log = logging.getLogger(__name__)

#: Iterations between recomputations of the residual from scratch (stops rounding drift).
RESIDUAL_REFRESH = 100


@dataclass
class SamplerResult:
    chains: list  # ChainStorage per chain
    n_draws: int  # draws kept per chain (all chains trimmed to the same number)
    seed_entropy: int
    draws: int
    burn: int
    thin: int
    interrupted: bool


def _check_count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def run_chain(model, rng, storage: ChainStorage, burn: int, thin: int, draws: int, stop: threading.Event,
              progress_counts: list, chain: int) -> None:
    """Run one chain, writing kept draws into ``storage``; returns early when ``stop`` is set."""
    states = model.init_states(rng)
    resid = model.residual_from_scratch(states)
    total = burn + draws * thin
    for it in range(total):
        if stop.is_set():
            return
        for term, state in zip(model.terms, states):
            term.step(rng, state, resid, model.sigma2_e(states))
        if (it + 1) % RESIDUAL_REFRESH == 0:
            resid[:] = model.residual_from_scratch(states)
        if it >= burn and (it - burn) % thin == thin - 1:
            storage.write(model.record(states, resid))
        progress_counts[chain] = it + 1


def run_chains(model, draws=1000, burn=500, thin=1, chains=4, seed=None, progress=True, store="full",
               cores=None) -> SamplerResult:
    """Run ``chains`` chains (in threads; kernels release the GIL) and collect their draws."""
    draws = _check_count(draws, "draws", 1)
    burn = _check_count(burn, "burn", 0)
    thin = _check_count(thin, "thin", 1)
    chains = _check_count(chains, "chains", 1)
    cores = min(chains, os.cpu_count() or 1) if cores is None else _check_count(cores, "cores", 1)
    if seed is not None:
        seed = _check_count(seed, "seed", 0)
    seed_sequence = np.random.SeedSequence(seed)
    rngs = [np.random.default_rng(s) for s in seed_sequence.spawn(chains)]
    variables = model.variables()
    storages = [ChainStorage(variables, draws, store) for _ in range(chains)]
    stop = threading.Event()
    counts = [0] * chains
    total = chains * (burn + draws * thin)
    interrupted = False
    bar = _progress_bar(total, progress)
    with ThreadPoolExecutor(max_workers=cores, thread_name_prefix="bayesgen-chain") as pool:
        futures = [
            pool.submit(run_chain, model, rngs[c], storages[c], burn, thin, draws, stop, counts, c)
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
    kept = min(s.n for s in storages)
    if interrupted:
        if kept == 0:
            raise KeyboardInterrupt("Sampling interrupted before any draw was kept.")
        warnings.warn(f"Sampling interrupted: returning the first {kept} draws of each chain.", UserWarning,
                      stacklevel=3)
    return SamplerResult(storages, kept, seed_sequence.entropy, draws, burn, thin, interrupted)


def _progress_bar(total: int, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Gibbs sampling", unit="it", mininterval=0.5)
