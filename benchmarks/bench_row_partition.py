"""The row-partitioned exact block sampler: its cost model against a simulation of W worker processes.

    python benchmarks/bench_row_partition.py [--n 2000 --p 5000 --workers 4 --block 64 --iterations 20]

1. Calibrates the model's constants on this machine (one BLAS thread): a worker's time per
   genotype visit (the dense X_b'e and residual-update passes on one shard), the leader's time per
   marker and per Gram-space multiply-add, and the pipes' cost per round (an echo of m floats to
   every worker process: a + c m).
2. Runs the sampler (BRR) with W shards in this process (``backend="serial"``) and in W worker
   processes (``backend="processes"``, spawn, pipes), checks that both give the same draws bit for
   bit, and prints the measured time and bytes per iteration beside the model's prediction.
3. Prints the plain one-process marker sweep (bayesgen's ``sweep_markers_gaussian``) for scale.
4. Evaluates the model for a biobank (500,000 records x 1,000,000 markers, 2-bit genotypes) on two
   networks, with the alternatives of docs/design/biobank.md.

Report ``uptime`` beside the figures: the machine is shared and has few cores.
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from bayesgen.kernels.markers import sweep_markers_gaussian  # noqa: E402
from bayesgen.kernels.row_blocks import draw_block_gram_space, shard_block_dot, shard_block_update  # noqa: E402
from bayesgen.sampler.row_partitioned import (  # noqa: E402
    _ECHO,
    ProcessShards,
    RowPartitionedSampler,
    SerialShards,
    predict_cost,
    shard_bounds,
)


def simulate(n: int, p: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, (p, n)).astype(np.int8)
    effects = rng.normal(0, 0.02, p)
    x_effects = codes.T.astype(np.float64) @ effects
    y = 1.0 + x_effects - x_effects.mean() + rng.normal(0, 1, n)
    return y, codes


def lookup_of(codes):
    lookup = np.zeros((codes.shape[0], 4))
    lookup[:, :3] = np.arange(3)[None, :] - codes.mean(axis=1)[:, None]
    return lookup


def calibrate_worker(codes, workers, block, reps=3) -> float:
    """Seconds per genotype visit: X_b'e and e -= X_b delta over every block of every shard, shard
    after shard (the codes then come from memory, not cache, as in a run)."""
    lookup = lookup_of(codes)
    p = codes.shape[0]
    shards = [np.ascontiguousarray(codes[:, a:b]) for a, b in shard_bounds(codes.shape[1], workers)]
    rng = np.random.default_rng(0)
    resids = [rng.normal(size=shard.shape[1]) for shard in shards]
    out, delta = np.empty(block), np.full(block, 1e-9)
    seconds = []
    for _ in range(reps + 1):  # the first compiles
        tic = time.perf_counter()
        for s in range(0, p, block):
            m = min(block, p - s)
            for shard, resid in zip(shards, resids):
                shard_block_dot(shard, s, m, lookup, resid, out)
                shard_block_update(shard, s, m, lookup, delta, np.ones(resid.size), resid)
        seconds.append(time.perf_counter() - tic)
    return float(np.mean(seconds[1:])) / (2.0 * codes.shape[1] * p)


def calibrate_leader(sizes=(8, 32, 128, 512, 2048)) -> tuple[float, float, float]:
    """(seconds per block, per marker, per Gram-space multiply-add): a fit of one call of the block
    draw from Python, t(B) = t_block + B t_marker + B^2 t_flop, least squares relative to t(B)."""
    rng = np.random.default_rng(0)
    seconds = []
    for block in sizes:
        x = rng.normal(size=(4 * block, block))
        gram = x.T @ x
        alpha, delta, r0 = np.zeros(block), np.empty(block), rng.normal(size=block)
        draw_block_gram_space(rng, alpha, 0, block, r0.copy(), gram, 0.01, 0.0, False, 1.0, delta)
        reps = max(5, 200_000 // (block * block))
        tic = time.perf_counter()
        for _ in range(reps):
            draw_block_gram_space(rng, alpha, 0, block, r0.copy(), gram, 0.01, 0.0, False, 1.0, delta)
        seconds.append((time.perf_counter() - tic) / reps)
    sizes_f, seconds_a = np.array(sizes, dtype=float), np.array(seconds)
    design = np.column_stack([np.ones_like(sizes_f), sizes_f, sizes_f**2]) / seconds_a[:, None]
    t_block, t_marker, t_flop = np.linalg.lstsq(design, np.ones_like(seconds_a), rcond=None)[0]
    return float(max(t_block, 0.0)), float(max(t_marker, 0.0)), float(max(t_flop, 1e-13))


def calibrate_transport(workers, backend, floats=(8, 64, 512, 4096), reps=400) -> tuple[float, float]:
    """(a, c): one round (a message of m floats to every worker, each echoing it) takes a + c m,
    over pipes to worker processes or (serial) by calls in this process."""
    dummy = (np.zeros((1, 4), dtype=np.int8), np.zeros((1, 4)), np.zeros(4), 1)
    shards = ProcessShards([dummy] * workers) if backend == "processes" else SerialShards([dummy] * workers)
    try:
        seconds = []
        for m in floats:
            message = np.concatenate([[_ECHO], np.zeros(m)])
            for _ in range(20):
                shards.request(message)
            tic = time.perf_counter()
            for _ in range(reps):
                shards.request(message)
            seconds.append((time.perf_counter() - tic) / reps)
    finally:
        shards.close()
    c, a = np.polyfit(np.array(floats, dtype=float), np.array(seconds), 1)
    return float(a), float(max(c, 1e-15))


def measure(y, codes, workers, block, iterations, backend):
    with RowPartitionedSampler(y, codes, workers=workers, block_size=block, backend=backend, refresh_every=0) as s:
        rng = np.random.default_rng(11)
        for _ in range(2):  # compile, warm the caches
            s.iteration(rng)
        bytes0 = s.shards.bytes_sent + s.shards.bytes_received
        worker0 = s.worker_seconds()
        leader0 = s.leader_seconds
        tic = time.perf_counter()
        for _ in range(iterations):
            s.iteration(rng)
        wall = (time.perf_counter() - tic) / iterations
        worker1 = s.worker_seconds()
        return {
            "wall": wall,
            "bytes": (s.shards.bytes_sent + s.shards.bytes_received - bytes0) / iterations,
            "worker": max(b - a for a, b in zip(worker0, worker1)) / iterations,
            "worker_total": sum(b - a for a, b in zip(worker0, worker1)) / iterations,
            "leader": (s.leader_seconds - leader0) / iterations,
            "alpha": s.alpha.copy(),
            "sigma2_e": s.sigma2_e,
            "gram_seconds": s.gram_seconds,
        }


def plain_sweep_seconds(codes, reps=3) -> float:
    """bayesgen's ordinary one-process Gaussian sweep over every marker (the marker step of bg.BRR)."""
    p, n = codes.shape
    lookup = lookup_of(codes)
    xx = np.array([np.sum(lookup[j, codes[j]] ** 2) for j in range(p)])
    rng = np.random.default_rng(0)
    alpha, var_alpha = np.zeros(p), np.full(p, 1e-3)
    resid, weights, genetic = rng.normal(size=n), np.ones(n), np.zeros(n)
    best = math.inf
    for _ in range(reps + 1):
        tic = time.perf_counter()
        sweep_markers_gaussian(rng, alpha, var_alpha, codes, lookup, xx, resid, weights, genetic, 1.0)
        best = min(best, time.perf_counter() - tic)
    return best


def fmt_bytes(b: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b:.0f} B"


def biobank(t_genotype, t_block, t_marker, t_flop, n=500_000, p=1_000_000):
    networks = {
        "10 GbE, TCP (L 25 us, 1.25 GB/s)": (25e-6, 1.25e9),
        "100 Gb/s InfiniBand, MPI (L 1.5 us, 12.5 GB/s)": (1.5e-6, 12.5e9),
    }
    print(
        f"\n## Biobank: {n:,} records x {p:,} markers, 2-bit genotypes ({fmt_bytes(n * p / 4)}); model constants from this machine"
    )
    print(
        "| network | W | B | s / iteration | workers | leader | communication | bytes / iteration | memory / worker | leader memory |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, (latency, bandwidth) in networks.items():
        for workers in (16, 64, 256):
            for block in (256, 1024, 4096):
                c = predict_cost(n, p, block, workers, bandwidth, latency, t_genotype, t_flop, t_marker, t_block)
                print(
                    f"| {name} | {workers} | {block} | {c['seconds_per_iteration']:.2f} | {c['worker_seconds']:.2f} | "
                    f"{c['leader_seconds']:.2f} | {c['comm_seconds']:.2f} | {fmt_bytes(c['bytes_per_iteration'])} | "
                    f"{fmt_bytes(c['worker_memory_bytes'])} | {fmt_bytes(c['leader_memory_bytes'])} |"
                )
    # the block size that balances the leader's pB flops against the rounds' latency and block cost
    for name, (latency, _) in networks.items():
        hops = math.ceil(math.log2(64))
        best = math.sqrt((2 * hops * latency + t_block) / t_flop)
        print(f"B* = sqrt((2 log2(W) L + t_block) / t_flop) for {name}, W = 64: {best:.0f}")
    print("\n## Alternatives (the same constants)")
    one_core = 2.0 * n * p * t_genotype
    print(f"- one core, plain sweep: {one_core:.0f} s / iteration ({one_core / 3600:.2f} h)")
    memory_bound = 2 * n * p / 4 / 150e9
    for cores in (32, 64):
        print(
            f"- one machine, {cores} cores, rows split over threads (no network): {one_core / cores:.1f} s compute per "
            f"iteration; reading the 2-bit codes twice at 150 GB/s takes {memory_bound:.1f} s"
        )
    for name, (latency, bandwidth) in networks.items():
        workers = 64
        hops = math.ceil(math.log2(workers))
        per_marker = (p + 1) * hops * 2 * latency
        markers_split = one_core + workers * (latency + 8 * n / bandwidth)
        print(f"- {name}: per-marker reduction (B = 1), W = 64: {per_marker:.0f} s of latency per iteration")
        print(
            f"- {name}: markers split over 64 workers, exact (residual passed along): {markers_split:.0f} s per iteration (no parallel speed-up)"
        )
    for rank in (1000, 5000):
        print(
            f"- summary statistics, LD blocks of rank {rank} (SBayesRC-like): {p * rank * t_flop:.1f} s per iteration on one core, independent of n"
        )
    hbm = 2.0e12
    gpu = 2 * n * p / 4 / hbm + (p / 1024 + 1) * 10e-6
    print(f"- GPUs (2 x 80 GB, 2 TB/s each, bandwidth-bound, B = 1024, 10 us per launch): {gpu:.2f} s per iteration")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--p", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--block", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args()
    n, p, workers, block = args.n, args.p, args.workers, args.block
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    print(f"# Row-partitioned block sampler, n = {n:,}, p = {p:,}, W = {workers}, B = {block}, {cores} cores")
    print(f"load before: {os.getloadavg()}")
    y, codes = simulate(n, p)
    t_genotype = calibrate_worker(codes, workers, block)
    t_block, t_marker, t_flop = calibrate_leader()
    transport = {backend: calibrate_transport(workers, backend) for backend in ("serial", "processes")}
    print(
        f"constants: {t_genotype * 1e9:.3f} ns per genotype visit; leader {t_block * 1e6:.1f} us per block + "
        f"{t_marker * 1e9:.1f} ns per marker + {t_flop * 1e9:.3f} ns per multiply-add; a round to {workers} workers "
        + ", ".join(f"{b}: {a * 1e6:.1f} us + {c * 1e9:.2f} ns per float" for b, (a, c) in transport.items())
    )
    results = {
        backend: measure(y, codes, workers, block, args.iterations, backend) for backend in ("serial", "processes")
    }
    same = np.array_equal(results["serial"]["alpha"], results["processes"]["alpha"]) and (
        results["serial"]["sigma2_e"] == results["processes"]["sigma2_e"]
    )
    print(f"same draws, {workers} processes and one: {same}")
    # A round costs a + c m (the calibration), i.e. hops = 1, 2L = a, 16 p / bandwidth = c p. All
    # shards in one process run one after the other (cores = 1); W processes share the machine's cores.
    predicted = {
        backend: predict_cost(
            n,
            p,
            block,
            workers,
            16.0 / transport[backend][1],
            transport[backend][0] / 2.0,
            t_genotype,
            t_flop,
            t_marker,
            t_block,
            bits=8,
            cores=1 if backend == "serial" else cores,
            hops=1,
        )
        for backend in ("serial", "processes")
    }
    print("\n| backend | | s / iteration | workers (slowest) | leader | communication + waits | bytes / iteration |")
    print("|---|---|---|---|---|---|---|")
    for backend, m in results.items():
        pr = predicted[backend]
        rest = (
            m["wall"] - m["worker"] - m["leader"]
            if backend == "processes"
            else m["wall"] - m["worker_total"] - m["leader"]
        )
        worker = m["worker"] if backend == "processes" else m["worker_total"]
        print(
            f"| {backend} | predicted | {pr['seconds_per_iteration'] * 1e3:.1f} ms | {pr['worker_seconds'] * 1e3:.1f} ms | "
            f"{pr['leader_seconds'] * 1e3:.1f} ms | {pr['comm_seconds'] * 1e3:.1f} ms | {fmt_bytes(pr['bytes_per_iteration'])} |"
        )
        print(
            f"| | measured | {m['wall'] * 1e3:.1f} ms | {worker * 1e3:.1f} ms | {m['leader'] * 1e3:.1f} ms | "
            f"{rest * 1e3:.1f} ms | {fmt_bytes(m['bytes'])} |"
        )
    print(f"Gram blocks (once): {results['processes']['gram_seconds']:.2f} s with {workers} processes")
    plain = plain_sweep_seconds(codes)
    print(f"plain one-process sweep (bg.BRR's marker step): {plain * 1e3:.1f} ms per iteration")
    print(f"load after: {os.getloadavg()}")
    biobank(t_genotype, t_block, t_marker, t_flop)


if __name__ == "__main__":
    main()
