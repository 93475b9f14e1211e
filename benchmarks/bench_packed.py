"""Packed genotypes (2 bits each) against int8: marker-sweep time and the peak memory of a fit.

Run:  python benchmarks/bench_packed.py [--n 2000] [--p 50000] [--fit-n 10000] [--fit-p 50000]
                                        [--repeats 5] [--draws 3] [--skip-sweep] [--skip-fit]

Prints ratios measured in this one run, with the load average (``uptime``) next to them:

1. Sweep time. Random codes of n records x p markers (2% missing, 10% of records without a
   phenotype), packed with ``pack_codes``. The Gaussian sweep (BayesA/BRR/LASSO) and the
   spike-and-slab sweep (BayesB/C/Cpi, pi = 0.1) on int8 codes and on packed codes,
   alternating, ``--repeats`` times each: the median seconds per sweep and packed / int8.
   Target: at most 1.2 at 2,000 x 50,000. The packed draws are checked equal to the int8 ones.
2. Peak memory of a BayesCpi fit from a PLINK file. A random .bed of fit-n individuals x
   fit-p markers is written to a temporary folder; in a fresh process each (after compiling
   the kernels on a small set): ``read_plink(prefix, packed=...)`` then
   ``BayesCPi(...).sample(draws, burn=0, chains=1)``. Reported: the tracemalloc peak (numpy
   and Python allocations) and the rise of the peak resident set size (``VmHWM`` after a
   reset through ``/proc/self/clear_refs``), each as a multiple of the int8 bytes n x p.
   Target: packed <= 0.4 x the int8 bytes + O(n + p).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this worktree's bayesgen, also when run from elsewhere

from bayesgen.data._genotype_kernels import pack_codes, packed_width  # noqa: E402 (after the sys.path line)
from bayesgen.kernels import sweep_markers_gaussian, weighted_cross_products  # noqa: E402 (after the sys.path line)
from bayesgen.kernels.markers import marker_code_stats  # noqa: E402 (after the sys.path line)
from bayesgen.kernels.spike_slab import sweep_markers_spike_slab  # noqa: E402 (after the sys.path line)


def load() -> str:
    return subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()


def sweep_case(n: int, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    codes = np.empty((p, n), dtype=np.int8)
    for start in range(0, p, 5000):  # blocks: no n x p int64 temporary
        block = rng.integers(0, 3, (min(5000, p - start), n), dtype=np.int8)
        block[rng.random(block.shape) < 0.02] = 3
        codes[start : start + block.shape[0]] = block
    packed = np.empty((p, packed_width(n)), dtype=np.uint8)
    pack_codes(codes, packed)
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - rng.uniform(0.2, 1.8, p)[:, None]
    weights = (rng.random(n) > 0.1).astype(float)
    resid = rng.standard_normal(n)
    return codes, packed, lookup, weights, resid


def bench_sweeps(n: int, p: int, repeats: int) -> None:
    codes, packed, lookup, weights, resid0 = sweep_case(n, p)
    print(
        f"Sweeps: {n} records x {p} markers; int8 codes {codes.nbytes / 1e6:.0f} MB, "
        f"packed {packed.nbytes / 1e6:.0f} MB ({packed.nbytes / codes.nbytes:.3f}x)"
    )
    _, xx = weighted_cross_products(codes, lookup, weights)
    stats = {"int8": marker_code_stats(codes), "packed": marker_code_stats(packed, n)}
    assert np.array_equal(stats["int8"], stats["packed"])
    stored = {"int8": codes, "packed": packed}
    var_alpha = np.full(p, 1e-4)
    log_odds = np.log(0.1 / 0.9)

    def gaussian(kind, rng, alpha, resid, gv):
        sweep_markers_gaussian(
            rng, alpha, var_alpha, stored[kind], lookup, xx, resid, weights, gv, 1.0, code_stats=stats[kind]
        )

    def spike_slab(kind, rng, alpha, resid, gv):
        sweep_markers_spike_slab(
            rng, alpha, var_alpha, log_odds, stored[kind], lookup, xx, stats[kind], resid, weights, gv, 1.0
        )

    for name, sweep in (("Gaussian (BayesA/BRR)", gaussian), ("spike-slab (BayesCpi)", spike_slab)):
        state = {kind: (np.random.default_rng(1), np.zeros(p), resid0.copy(), np.zeros(n)) for kind in stored}
        for kind in stored:  # compile, and one sweep from the same start
            sweep(kind, *state[kind])
        times = {kind: [] for kind in stored}
        for _ in range(repeats):
            for kind in stored:  # alternate, so both see the same load
                t = time.perf_counter()
                sweep(kind, *state[kind])
                times[kind].append(time.perf_counter() - t)
        same = all(np.array_equal(state["int8"][k], state["packed"][k]) for k in (1, 2, 3))
        median = {kind: float(np.median(v)) for kind, v in times.items()}
        best = {kind: min(v) for kind, v in times.items()}
        print(
            f"  {name:22s}: int8 {median['int8']:.3f} s, packed {median['packed']:.3f} s per sweep "
            f"(median of {repeats}); packed / int8 = {median['packed'] / median['int8']:.2f} "
            f"(best of {repeats}: {best['packed'] / best['int8']:.2f}); same draws: {same}"
        )
    print(f"  load: {load()}")


CHILD = r"""
import json, sys, time, tracemalloc
import numpy as np, pandas as pd
sys.path.insert(0, sys.argv[5])
import bayesgen as bg

prefix, packed, draws, small = sys.argv[1], sys.argv[2] == "packed", int(sys.argv[3]), sys.argv[4]

def rss_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])

def fit(path):
    g = bg.read_plink(path, packed=packed, report=False)
    data = pd.DataFrame({"id": g.ids, "y": np.random.default_rng(0).standard_normal(g.n_individuals)})
    model = bg.BayesCPi(data, "y", "id", g)
    t = time.perf_counter()
    model.sample(draws=draws, burn=0, chains=1, seed=1, progress=False)
    return g, time.perf_counter() - t

fit(small)  # compile every kernel of the route on a small set first
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak RSS to the current RSS
before = rss_kb("VmRSS")
tracemalloc.start()
t = time.perf_counter()
g, sample_seconds = fit(prefix)
seconds = time.perf_counter() - t
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
out = {"traced_peak": peak, "rss_rise": (rss_kb("VmHWM") - before) * 1024, "held": g.nbytes,
       "n": g.n_individuals, "p": g.n_markers, "seconds": seconds, "sample_seconds": sample_seconds}
print(json.dumps(out))
"""


def write_random_bed(prefix: Path, n: int, p: int, seed: int = 1) -> None:
    """Random genotypes in HWE at allele frequencies U(0.05, 0.5), 1% missing, as a SNP-major .bed."""
    rng = np.random.default_rng(seed)
    with open(prefix.with_suffix(".bed"), "wb") as handle:
        handle.write(bytes([0x6C, 0x1B, 0x01]))
        for start in range(0, p, 2000):
            rows = min(2000, p - start)
            freq = rng.uniform(0.05, 0.5, (rows, 1))
            codes = rng.binomial(2, freq, (rows, n)).astype(np.int8)
            codes[rng.random((rows, n)) < 0.01] = 3
            body = np.empty((rows, packed_width(n)), dtype=np.uint8)
            pack_codes(codes, body)  # the .bed layout itself
            handle.write(body.tobytes())
    prefix.with_suffix(".fam").write_text("".join(f"f i{k} 0 0 0 -9\n" for k in range(n)))
    prefix.with_suffix(".bim").write_text("".join(f"1\trs{j}\t0\t{j * 100}\tA\tC\n" for j in range(p)))


def child(prefix: Path, kind: str, draws: int, small: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(prefix), kind, str(draws), str(small), str(ROOT)],
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_fit(n: int, p: int, draws: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        prefix, small = Path(folder) / "big", Path(folder) / "small"
        write_random_bed(prefix, n, p)
        write_random_bed(small, 60, 200, seed=2)
        int8_bytes = n * p
        print(
            f"BayesCpi fit from a {n} x {p} PLINK file ({draws} draws, 1 chain); int8 codes "
            f"{int8_bytes / 1e6:.0f} MB, n + p = {n + p}"
        )
        results = {kind: child(prefix, kind, draws, small) for kind in ("int8", "packed")}
        for kind, r in results.items():
            print(
                f"  {kind:6s}: held {r['held'] / 1e6:.0f} MB; tracemalloc peak {r['traced_peak'] / 1e6:.0f} MB = "
                f"{r['traced_peak'] / int8_bytes:.3f}x the int8 bytes; peak RSS rise {r['rss_rise'] / 1e6:.0f} MB = "
                f"{r['rss_rise'] / int8_bytes:.3f}x; read + fit {r['seconds']:.1f} s "
                f"(sampling {r['sample_seconds']:.1f} s)"
            )
        a, b = results["int8"], results["packed"]
        print(
            f"  packed / int8: tracemalloc peak {b['traced_peak'] / a['traced_peak']:.3f}, "
            f"RSS rise {b['rss_rise'] / a['rss_rise']:.3f}; packed peak beyond its codes: "
            f"{(b['traced_peak'] - b['held']) / 1e6:.1f} MB = {(b['traced_peak'] - b['held']) / (n + p):.0f} "
            "bytes per (n + p)"
        )
        print(f"  load: {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--p", type=int, default=50000)
    parser.add_argument("--fit-n", type=int, default=10000)
    parser.add_argument("--fit-p", type=int, default=50000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--skip-fit", action="store_true")
    args = parser.parse_args()
    print(f"load at start: {load()}")
    if not args.skip_sweep:
        bench_sweeps(args.n, args.p, args.repeats)
    if not args.skip_fit:
        bench_fit(args.fit_n, args.fit_p, args.draws)


if __name__ == "__main__":
    main()
