"""Mixing of BayesA on the mice data against BGLR, under the same priors (issue 10, item 4).

Model: Obesity.BMI ~ GENDER + BayesA over 10,346 SNPs of 1,814 mice (../shared/data),
bayesgen with ``priors="bglr"`` (BGLR's rule for sigma2_e, BGLR's Gamma(1.1, .) prior on
the BayesA scale) against BGLR 1.1.5's ``BayesA`` with its defaults. Chains are run one at a
time and interleaved (bayesgen chain 1, BGLR chain 1, bayesgen chain 2, ...) so that both
see the same machine load; each gets ``--burn`` + ``--draws`` iterations and its own seed.
Reported per sampler: seconds per iteration, posterior means, bulk ESS over all chains and
R-hat (arviz) of sigma2_e, h2 (= var(X alpha) / (var(X alpha) + sigma2_e), BGLR's from its
saved effects) and the scale, and ESS per second of sampling time (burn-in included).
With ``--before``, also bayesgen without the rescaling move (``Markers(expand=False)``),
the sampler before this change. Without R and BGLR (``R_LIBS=/work/Rlib`` by default; set
R_LIBS to override) the BGLR part prints why and is skipped.

With ``--blocks`` it measures instead the exact blocked sweep (issue 10, item 5) against the
plain sweep on simulated data: n = p = 20,000 by default (int8 genotypes, 400 MB; 2,000 QTL,
h2 = 0.5; unlinked markers, or with ``--ld`` markers in linkage disequilibrium), BayesA with
default priors, chains interleaved as above; reported per sampler:
setup seconds (the blocks' X_b'WX_b), seconds per iteration, bulk ESS, ESS/s and R-hat of
sigma2_g and h2, and the ratio of ESS/s to the plain sweep.

    python benchmarks/bench_mixing.py [--draws 1500] [--burn 500] [--chains 4] [--before] [--no-bglr]
    python benchmarks/bench_mixing.py --blocks [--n 20000] [--p 20000] [--draws 200] [--burn 50] [--chains 2]
                                      [--passes 1,4] [--ld 0.9]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
R_LIBS = os.environ.get("R_LIBS", "/work/Rlib")

BGLR_SCRIPT = r"""
suppressMessages(library(BGLR))
args <- commandArgs(TRUE)
nIter <- as.integer(args[1]); seed <- as.integer(args[2]); out <- args[3]; data <- args[4]
X <- as.matrix(read.csv(gzfile(file.path(data, "mice_X.csv.gz")), check.names=FALSE)[, -1])
ph <- read.csv(file.path(data, "mice_pheno.csv"))
G <- model.matrix(~GENDER, ph)[, -1, drop=FALSE]
set.seed(seed)
setwd(dirname(out))
t0 <- proc.time()[3]
fm <- BGLR(y=ph$Obesity.BMI, ETA=list(list(X=G, model="FIXED"), list(X=X, model="BayesA", saveEffects=TRUE)),
           nIter=nIter, burnIn=0, thin=1, verbose=FALSE, saveAt="c_")
seconds <- proc.time()[3] - t0
varE <- scan("c_varE.dat", quiet=TRUE)
S <- scan("c_ETA_2_ScaleBayesA.dat", quiet=TRUE)
B <- readBinMat("c_ETA_2_b.bin")
gv <- scale(X, center=TRUE, scale=FALSE) %*% t(B)
sg <- colMeans(sweep(gv, 2, colMeans(gv))^2)
write.csv(data.frame(sigma2_e=varE, scale=S / 5, sigma2_g=sg, h2=sg / (sg + varE), seconds=seconds),
          out, row.names=FALSE)
"""


def bglr_missing() -> str | None:
    if shutil.which("Rscript") is None:
        return "Rscript not found"
    probe = subprocess.run(
        ["Rscript", "-e", "library(BGLR)"], env={**os.environ, "R_LIBS": R_LIBS}, capture_output=True, text=True
    )
    return None if probe.returncode == 0 else f"BGLR not installed under R_LIBS={R_LIBS}"


def run_bglr(iterations: int, seed: int, workdir: Path) -> tuple[pd.DataFrame, float]:
    script = workdir / "bglr_bayes_a.R"
    script.write_text(BGLR_SCRIPT)
    chain_dir = workdir / f"chain{seed}"
    chain_dir.mkdir()
    out = chain_dir / "trace.csv"
    subprocess.run(
        ["Rscript", str(script), str(iterations), str(seed), str(out), str(DATA)],
        check=True,
        env={**os.environ, "R_LIBS": R_LIBS},
        capture_output=True,
    )
    trace = pd.read_csv(out)
    return trace.drop(columns="seconds"), float(trace["seconds"].iloc[0])


def run_bayesgen(model, draws: int, burn: int, seed: int) -> tuple[pd.DataFrame, float]:
    start = time.perf_counter()
    idata = model.sample(
        draws=draws, burn=burn, chains=1, seed=seed, progress=False, store="summary", check_convergence=False
    )
    seconds = time.perf_counter() - start
    post = idata.posterior
    return pd.DataFrame({name: post[name].values[0] for name in ("sigma2_e", "h2", "scale")}), seconds


def summarise(label: str, chains: list[pd.DataFrame], seconds: float, iterations: int, burn: int) -> dict:
    import arviz as az

    row = {"sampler": label, "ms/iteration": 1e3 * seconds / (iterations * len(chains))}
    for name in ("sigma2_e", "h2", "scale"):
        draws = np.stack([c[name].to_numpy()[-(iterations - burn) :] for c in chains])
        ess = float(az.ess(draws, method="bulk"))
        row[f"mean {name}"] = float(draws.mean())
        row[f"ESS {name}"] = ess
        row[f"ESS/s {name}"] = ess / seconds
        row[f"R-hat {name}"] = float(az.rhat(draws)) if len(chains) > 1 else float("nan")
    return row


def simulated_markers(n: int, p: int, seed: int = 1, ld: float = 0.0):
    """n individuals x p int8 markers, 2,000 QTL (at most p), h2 = 0.5.

    ``ld = 0``: independent markers, allele frequencies U(0.05, 0.5). ``ld > 0``: markers in
    linkage disequilibrium along one chromosome: each haplotype copies its allele at marker
    j - 1 with probability ``ld`` and otherwise draws a new one (frequency 0.3), so r^2
    between markers d apart is about ``ld`` ** (2 d) (ld = 0.9: about 0.8 for neighbours).
    """
    import bayesgen as bg
    from bayesgen.kernels.markers import genetic_values_from_codes

    rng = np.random.default_rng(seed)
    if ld > 0:
        codes = _linked_codes(n, p, ld, rng)
    else:
        freq = rng.uniform(0.05, 0.5, p).astype(np.float32)
        codes = np.empty((p, n), dtype=np.int8)
        for start in range(0, p, 500):  # in chunks: two uniforms per genotype would take 3.2 GB at once
            f = freq[start : start + 500, None]
            codes[start : start + 500] = (rng.random((f.size, n), dtype=np.float32) < f).astype(np.int8) + (
                rng.random((f.size, n), dtype=np.float32) < f
            )
    ids = [f"i{k}" for k in range(n)]
    genotypes = bg.Genotypes.from_codes(ids, codes, [f"m{j}" for j in range(p)])
    effects = np.zeros(genotypes.codes.shape[0])
    n_qtl = min(2000, effects.size)
    effects[rng.choice(effects.size, size=n_qtl, replace=False)] = rng.standard_normal(n_qtl)
    value = genetic_values_from_codes(genotypes.codes, genotypes.centred_lookup(), effects)
    y = value + rng.standard_normal(n) * value.std()
    return pd.DataFrame({"id": ids, "y": y}), genotypes


def _linked_codes(n: int, p: int, ld: float, rng) -> np.ndarray:
    """int8 codes (p x n) of two haplotypes per individual, each a Markov chain along the markers."""
    codes = np.zeros((p, n), dtype=np.int8)
    for _ in range(2):
        allele = rng.random(n) < 0.3
        for j in range(p):
            if j > 0:
                fresh = rng.random(n) >= ld
                allele = np.where(fresh, rng.random(n) < 0.3, allele)
            codes[j] += allele
    return codes


def sweep_times(models: dict, repeats: int) -> dict:
    """CPU seconds (process time, min over ``repeats``) of one marker step (sweep + prior update) per model."""
    from bayesgen import Markers
    from bayesgen.sampler import Gibbs

    out = {}
    for name, model in models.items():
        gibbs = Gibbs(model)
        rng = np.random.default_rng(0)
        chain = gibbs.init(rng)
        k = next(i for i, term in enumerate(model.terms) if isinstance(term, Markers))
        term, state, ctx = model.terms[k], chain.states[k], chain.ctx
        times = []
        for _ in range(repeats):
            start = time.process_time()
            term.step(rng, state, ctx)
            times.append(time.process_time() - start)
        out[name] = min(times)
    return out


def bench_blocks(args) -> int:
    """The blocked sweep against the plain one at n x p (see the module docstring)."""
    import arviz as az

    import bayesgen as bg

    print(
        f"{' '.join(sys.argv)}\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    t = time.perf_counter()
    data, genotypes = simulated_markers(args.n, args.p, ld=args.ld)
    print(
        f"simulated {args.n} x {args.p} genotypes ({f'LD {args.ld}' if args.ld else 'unlinked'}) in "
        f"{time.perf_counter() - t:.0f} s"
    )
    configs = {"plain sweep": {}}
    for passes in map(int, args.passes.split(",")):
        label = f"blocks of {args.block_size}" + (f", {passes} passes" if passes > 1 else "")
        configs[label] = {"block_size": args.block_size, "block_passes": passes}
    models, setup = {}, {}
    for name, options in configs.items():
        t = time.perf_counter()
        models[name] = bg.Model(data, "y", [bg.Fixed(), bg.Markers("id", genotypes, prior=bg.BayesAPrior(), **options)])
        setup[name] = time.perf_counter() - t
        models[name].sample(
            draws=2, burn=1, chains=1, seed=0, progress=False, store="summary", check_convergence=False
        )  # compile
    sweep_cpu = sweep_times(models, repeats=5)
    print(
        "one marker step alone (sweep + prior update), CPU ms (min of 5): "
        + ", ".join(f"{k} {1e3 * v:.1f}" for k, v in sweep_cpu.items())
    )
    traces = {name: [] for name in models}
    seconds = dict.fromkeys(models, 0.0)
    for chain in range(args.chains):
        for name, model in models.items():
            t = time.perf_counter()
            idata = model.sample(
                draws=args.draws,
                burn=args.burn,
                chains=1,
                seed=100 + chain,
                progress=False,
                store="summary",
                check_convergence=False,
            )
            seconds[name] += time.perf_counter() - t
            traces[name].append({v: idata.posterior[v].values[0] for v in ("var_g", "h2")})
        print(f"chain {chain + 1}: " + ", ".join(f"{k} {seconds[k]:.0f} s" for k in models), flush=True)
    rows = []
    for name in models:
        row = {
            "sampler": name,
            "setup s": setup[name],
            "s/iteration": seconds[name] / (args.chains * (args.draws + args.burn)),
        }
        for v in ("var_g", "h2"):
            draws = np.stack([c[v] for c in traces[name]])
            row[f"mean {v}"] = float(draws.mean())
            row[f"ESS {v}"] = float(az.ess(draws, method="bulk"))
            row[f"ESS/s {v}"] = row[f"ESS {v}"] / seconds[name]
            row[f"R-hat {v}"] = float(az.rhat(draws)) if args.chains > 1 else float("nan")
        rows.append(row)
    table = pd.DataFrame(rows).set_index("sampler")
    for v in ("var_g", "h2"):
        table[f"ESS/s ratio {v}"] = table[f"ESS/s {v}"] / table.loc["plain sweep", f"ESS/s {v}"]
    with pd.option_context("display.width", 200, "display.max_columns", 40):
        print(table.T.to_string(float_format=lambda v: f"{v:.4g}"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak RSS {rss:.2f} GB; load average {os.getloadavg()[0]:.2f} at the end")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=None, help="1500 (mice), 200 (--blocks)")
    parser.add_argument("--burn", type=int, default=None, help="500 (mice), 50 (--blocks)")
    parser.add_argument("--chains", type=int, default=None, help="4 (mice), 2 (--blocks)")
    parser.add_argument("--before", action="store_true", help="also run without the rescaling move")
    parser.add_argument("--no-bglr", action="store_true")
    parser.add_argument("--blocks", action="store_true", help="the blocked sweep against the plain one")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--p", type=int, default=20_000)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--passes", default="1,4", help="--blocks: small-system passes per block, comma-separated")
    parser.add_argument(
        "--ld",
        type=float,
        default=0.0,
        help="--blocks: markers in LD, each haplotype keeping the previous allele with this probability (0: unlinked)",
    )
    args = parser.parse_args()
    defaults = (200, 50, 2) if args.blocks else (1500, 500, 4)
    for key, value in zip(("draws", "burn", "chains"), defaults):
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.blocks:
        return bench_blocks(args)
    if not (DATA / "mice_X.csv.gz").exists():
        print(f"mice data not found under {DATA}; nothing to do")
        return 0
    import bayesgen as bg

    print(
        f"{' '.join(sys.argv)}\nmachine: {platform.node()} {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start"
    )
    geno = bg.Genotypes.from_csv(DATA / "mice_X.csv.gz", column="SUBJECT.NAME")
    pheno = pd.read_csv(DATA / "mice_pheno.csv")

    def model(expand: bool):
        return bg.Model(
            pheno,
            "Obesity.BMI",
            [bg.Fixed(["GENDER"]), bg.Markers("SUBJECT.NAME", geno, prior=bg.BayesAPrior(df=5.0), expand=expand)],
            priors="bglr",
        )

    samplers = {"bayesgen": model(True)}
    if args.before:
        samplers["bayesgen, no rescaling"] = model(False)
    skip = "--no-bglr" if args.no_bglr else bglr_missing()
    if skip:
        print(f"BGLR skipped: {skip}")
    iterations = args.draws + args.burn
    traces = {name: [] for name in [*samplers, *([] if skip else ["BGLR 1.1.5"])]}
    seconds = dict.fromkeys(traces, 0.0)
    # The first chain of a fresh process compiles numba kernels: warm them up untimed.
    samplers["bayesgen"].sample(
        draws=5, burn=5, chains=1, seed=0, progress=False, store="summary", check_convergence=False
    )
    with tempfile.TemporaryDirectory() as tmp:
        for chain in range(args.chains):
            seed = 1000 + chain
            for name, m in samplers.items():
                trace, sec = run_bayesgen(m, args.draws, args.burn, seed)
                traces[name].append(trace)
                seconds[name] += sec
            if not skip:
                trace, sec = run_bglr(iterations, seed, Path(tmp))
                traces["BGLR 1.1.5"].append(trace)
                seconds["BGLR 1.1.5"] += sec
            print(f"chain {chain + 1}: " + ", ".join(f"{k} {seconds[k]:.0f} s" for k in traces), flush=True)
    rows = [summarise(name, traces[name], seconds[name], iterations, args.burn) for name in traces]
    table = pd.DataFrame(rows).set_index("sampler")
    with pd.option_context("display.width", 200, "display.max_columns", 40):
        print(table.T.to_string(float_format=lambda v: f"{v:.4g}"))
    if not skip:
        ratio = table.loc["bayesgen"] / table.loc["BGLR 1.1.5"]
        print(
            "ESS/s ratio bayesgen / BGLR: "
            + ", ".join(f"{name} {ratio[f'ESS/s {name}']:.1f}x" for name in ("sigma2_e", "h2", "scale"))
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
