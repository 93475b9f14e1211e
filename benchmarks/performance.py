"""bayesgen's speed, side by side with BGLR and MCMCglmm where R has them: one script, one table.

Run:  python benchmarks/performance.py            (the full run; see --help for sizes)
      python benchmarks/performance.py --quick    (smaller sizes and fewer draws, about 2-3 minutes)

Sections, each printed as rows of one table under the machine, the load and the command line:

* ``kernel``: per genotype matrix (simulated n x p; the same with 1% missing genotypes and 5%
  unphenotyped records; the mice, 1,814 x 10,346, from ../shared/data when present): ms per
  sweep and ns per genotype element of the Gaussian sweep and of the spike-and-slab sweep at
  pi = 1 and pi = 0.05, and their ratio to two floor kernels timed in the same process on the
  same matrix: ``floor`` (one int8 dot product in four scalar partial sums and one axpy per
  marker, compiled like every bayesgen kernel, no fastmath) and ``floor-simd`` (the same with
  the dot product reassociated into SIMD registers, as the sweeps now do). All kernels are
  timed interleaved, round after round; each figure is the median over ``--repeats`` rounds.
* ``model``: full fits (BayesA, BRR, BayesCpi) on the simulated data and the mice, each in a
  fresh process (its peak RSS): median seconds per iteration, and arviz bulk ESS and ESS per
  second of sigma2_e, h2 and the prior's hyperparameters over ``--chains`` chains run one after
  another on one core (``cores=1``; ESS/s = ESS / wall time of ``sample``, burn-in included).
  The gryphon animal model ``bwt ~ 1 + animal`` likewise.
* ``R``: the same data through Rscript: BGLR BayesA / BRR / BayesC (BGLR's default priors;
  bayesgen's BayesCpi uses the same Beta(5.5, 5.5) prior on pi) and MCMCglmm's animal model on
  gryphon, the same number of chains, draws and burn-in, run one after another: seconds per
  iteration (wall / nIter), the same arviz ESS from the saved draws (BGLR saves no h2 draws),
  and peak RSS (``/usr/bin/time``). Skipped with a message when R, BGLR or MCMCglmm is missing
  (``R_LIBS`` is honoured; /work/Rlib is added when it exists).
* ``startup``: ``python -c "import bayesgen"`` (median of 5 fresh interpreters) and import +
  a 20-iteration animal model with a warm numba cache (median of 3).
* ``parallel``: BayesA with 2 chains, ``cores=2`` against ``cores=1`` (interleaved, median of
  3): throughput ratio, and whether the draws are identical.
* ``memory``: BayesCpi read from a PLINK .bed of ``--memory-n`` x ``--memory-p`` (1% missing
  genotypes), ``store="summary"``, a few iterations, in a fresh process: peak RSS above the
  process's RSS before reading, as a multiple of the n x p int8 codes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
ROWS = []  # (section, case, quantity, value, note)


def row(section, case, quantity, value, note=""):
    ROWS.append((section, case, quantity, value, note))
    print(f"  {section:<9}{case:<44}{quantity:<30}{value:>12}  {note}", flush=True)


def fmt(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def load():
    return f"load {os.getloadavg()[0]:.2f}"


# ---------------------------------------------------------------------------------------------- data


def simulate_codes(n, p, seed, missing=0.0):
    """int8 codes (p x n) with allele frequencies U(0.05, 0.5); ``missing`` share set to 3."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.05, 0.5, p)
    codes = np.empty((p, n), dtype=np.int8)
    for start in range(0, p, 5000):
        stop = min(p, start + 5000)
        f = freq[start:stop, None]
        codes[start:stop] = (rng.random((stop - start, n)) < f).astype(np.int8) + (rng.random((stop - start, n)) < f)
    if missing:
        codes[rng.random(codes.shape) < missing] = 3
    return codes


def simulate_phenotype(codes, h2, n_qtl, seed):
    rng = np.random.default_rng(seed)
    p, n = codes.shape
    qtl = rng.choice(p, min(n_qtl, p), replace=False)
    x = codes[qtl].astype(float)
    x -= x.mean(axis=1, keepdims=True)
    g = rng.standard_normal(qtl.size) @ x
    g *= np.sqrt(h2 / g.var())
    return g + rng.standard_normal(n) * np.sqrt(1 - h2)


def write_dataset(folder: Path, name, codes, y):
    """codes.npy (p x n int8), X.bin (the same bytes: an n x p column-major matrix for R), y.txt."""
    d = folder / name
    d.mkdir(parents=True, exist_ok=True)
    np.save(d / "codes.npy", codes)
    (d / "X.bin").write_bytes(np.ascontiguousarray(codes).tobytes())
    np.savetxt(d / "y.txt", y)
    return d


def mice_dataset(folder: Path):
    import pandas as pd

    import bayesgen as bg

    geno = bg.Genotypes.from_csv(DATA / "mice_X.csv.gz", column="SUBJECT.NAME")
    pheno = pd.read_csv(DATA / "mice_pheno.csv").set_index("SUBJECT.NAME").loc[list(geno.ids)]
    return write_dataset(folder, "mice", np.ascontiguousarray(geno.codes), pheno["Obesity.BMI"].to_numpy(float))


# ---------------------------------------------------------------------------------------------- kernels


def kernel_section(matrices, repeats):
    from floors import floor_simd, floor_sweep_unrolled  # benchmarks/ is on the path when run as a script

    from bayesgen.kernels.markers import marker_code_stats, sweep_markers_gaussian, weighted_cross_products
    from bayesgen.kernels.spike_slab import sweep_markers_spike_slab

    for label, codes, n_unphenotyped in matrices:
        p, n = codes.shape
        observed = codes != 3
        centre = np.where(observed, codes, 0).sum(axis=1) / np.maximum(observed.sum(axis=1), 1)
        lookup = np.zeros((p, 4))
        lookup[:, :3] = np.arange(3)[None, :] - centre[:, None]
        rng = np.random.default_rng(0)
        w = np.ones(n)
        w[rng.choice(n, n_unphenotyped, replace=False)] = 0.0
        _, xx = weighted_cross_products(codes, lookup, w)
        stats = marker_code_stats(codes)
        y = rng.standard_normal(n)
        resid_floor = y.copy()
        cases = {
            "floor": lambda: floor_sweep_unrolled(codes, resid_floor, 1e-9),
            "floor-simd": lambda: floor_simd(codes, resid_floor, 1e-9),
        }
        # Prior variances: about 0.5 of var(y) spread over the markers; pi = 0.05 includes ~5%.
        var_alpha = np.full(p, 0.5 / np.maximum(xx, 1e-9).sum())
        g_state = (np.random.default_rng(1), np.zeros(p), y.copy(), np.zeros(n))
        cases["gaussian sweep"] = lambda s=g_state: sweep_markers_gaussian(
            s[0], s[1], var_alpha, codes, lookup, xx, s[2], w, s[3], 0.5, code_stats=stats
        )
        included = {}
        for pi in (1.0, 0.05):
            st = (np.random.default_rng(2), np.zeros(p), y.copy(), np.zeros(n))
            log_odds = np.inf if pi == 1.0 else np.log(pi / (1 - pi))
            va = var_alpha / pi

            def run(st=st, log_odds=log_odds, va=va, pi=pi):
                included[pi] = sweep_markers_spike_slab(
                    st[0], st[1], va, log_odds, codes, lookup, xx, stats, st[2], w, st[3], 0.5
                )

            cases[f"spike-slab pi={pi:g}"] = run
        for fn in cases.values():
            fn()  # compile, warm up
        times = {name: [] for name in cases}
        for _ in range(repeats):
            for name, fn in cases.items():
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
        med = {name: float(np.median(v)) for name, v in times.items()}
        case = f"{label} {n}x{p}"
        print(f"\n{case}: {int((~observed).sum())} missing genotypes, {n_unphenotyped} unphenotyped; {load()}")
        for name, t in med.items():
            note = f"x floor {t / med['floor']:.2f}, x floor-simd {t / med['floor-simd']:.2f}"
            if name.startswith("spike"):
                note += f", {included[float(name.split('=')[1])] / p:.1%} included"
            row("kernel", f"{case} {name}", "ms/sweep | ns/element", f"{t * 1e3:.1f} | {t / (n * p) * 1e9:.3f}", note)
        ratio = med["spike-slab pi=0.05"] / med["spike-slab pi=1"]
        row(
            "kernel",
            case,
            "spike-slab pi=.05 / pi=1",
            f"{ratio:.2f}",
            "target <= 0.6: " + ("met" if ratio <= 0.6 else "not met"),
        )


# ---------------------------------------------------------------------------------------------- model fits

FIT = r"""
import json, sys, time, warnings
import numpy as np, pandas as pd
import bayesgen as bg
import arviz as az
warnings.simplefilter("ignore")
folder, model_name, draws, burn, chains = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if model_name == "animal":
    gry = pd.read_csv(folder + "/gryphon.csv")
    ped = bg.Pedigree.from_csv(folder + "/gryphonped.csv", id="id", sire="father", dam="mother")
    data = gry.dropna(subset=["bwt"]).reset_index(drop=True)
    model = bg.Model(data, "bwt", [bg.Fixed(), bg.Animal("animal", ped)])
else:
    codes = np.load(folder + "/codes.npy")
    y = np.loadtxt(folder + "/y.txt")
    ids = [f"i{i}" for i in range(codes.shape[1])]
    geno = bg.Genotypes.from_codes(ids, codes, [f"m{j}" for j in range(codes.shape[0])], drop_monomorphic=False)
    data = pd.DataFrame({"id": ids, "y": y})
    model = getattr(bg, model_name)(data, "y", "id", geno)
model.sample(draws=2, burn=1, chains=1, seed=0, progress=False, check_convergence=False)  # compile
t = time.perf_counter()
idata = model.sample(draws=draws, burn=burn, chains=chains, cores=1, seed=1, progress=False, store="summary",
                     check_convergence=False)
wall = time.perf_counter() - t
post = idata.posterior
names = [k for k, v in post.data_vars.items() if v.ndim == 2 and k not in ("var_g", "n_included")]
ess = {k: float(az.ess(post[k].values, method="bulk")) for k in names}
peak = [int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM")]
print(json.dumps({"wall": wall, "per_iter": float(np.median(idata.sample_stats["seconds"].values)), "ess": ess,
                  "peak_rss": peak[0] if peak else None}))
"""


def child_json(args, timeout=3600):
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"{' '.join(map(str, args[:3]))} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report_fit(section, case, result, elements=None):
    note = load()
    per_iter = result["per_iter"]
    value = f"{per_iter * 1e3:.1f} ms"
    if elements:
        note += f"; {per_iter / elements * 1e9:.2f} ns/element"
    row(section, case, "s/iteration", value, note)
    for name, ess in result["ess"].items():
        row(section, case, f"ESS | ESS/s {name}", f"{ess:.0f} | {ess / result['wall']:.1f}")
    if result.get("peak_rss"):
        row(section, case, "peak RSS", f"{result['peak_rss'] / 1e9:.2f} GB")


def model_section(datasets, models, args):
    for name, folder, elements in datasets:
        for model in models:
            result = child_json(
                [sys.executable, "-c", FIT, str(folder), model, str(args.draws), str(args.burn), str(args.chains)]
            )
            report_fit("model", f"bayesgen {model} {name}", result, elements)


# ---------------------------------------------------------------------------------------------- R

BGLR_R = r"""
args <- commandArgs(TRUE)
dir <- args[1]; model <- args[2]; nIter <- as.integer(args[3]); burn <- as.integer(args[4])
chains <- as.integer(args[5]); n <- as.integer(args[6]); p <- as.integer(args[7])
suppressMessages(library(BGLR))
X <- matrix(as.numeric(readBin(file.path(dir, "X.bin"), "integer", size = 1, n = n * p, signed = TRUE)), nrow = n)
y <- scan(file.path(dir, "y.txt"), quiet = TRUE)
for (c in 1:chains) {
  set.seed(c)
  out <- file.path(dir, paste0("bglr_", model, "_", c, "_"))
  t <- system.time(fm <- BGLR(y = y, ETA = list(list(X = X, model = model, saveEffects = FALSE)), nIter = nIter,
                               burnIn = burn, thin = 1, saveAt = out, verbose = FALSE))[["elapsed"]]
  cat(sprintf("seconds %d %.6f\n", c, t))
}
"""

MCMCGLMM_R = r"""
args <- commandArgs(TRUE)
dir <- args[1]; out <- args[2]; nIter <- as.integer(args[3]); burn <- as.integer(args[4]); chains <- as.integer(args[5])
suppressMessages(library(MCMCglmm))
gry <- read.csv(file.path(dir, "gryphon.csv"))
ped <- read.csv(file.path(dir, "gryphonped.csv"))
ped <- data.frame(animal = ped$id, dam = ped$mother, sire = ped$father)
d <- gry[!is.na(gry$bwt), ]
d$animal <- factor(d$animal)
prior <- list(G = list(G1 = list(V = 1, nu = 0.002)), R = list(V = 1, nu = 0.002))
for (c in 1:chains) {
  set.seed(c)
  t <- system.time(m <- MCMCglmm(bwt ~ 1, random = ~animal, pedigree = ped, data = d, prior = prior, nitt = nIter,
                                  burnin = burn, thin = 1, verbose = FALSE))[["elapsed"]]
  write.table(as.matrix(m$VCV), file.path(out, paste0("vcv_", c, ".txt")), row.names = FALSE)
  cat(sprintf("seconds %d %.6f\n", c, t))
}
"""


def r_environment():
    env = dict(os.environ)
    if Path("/work/Rlib").is_dir():
        env["R_LIBS"] = os.pathsep.join(filter(None, [env.get("R_LIBS"), "/work/Rlib"]))
    return env


def r_has(package, env):
    if shutil.which("Rscript") is None:
        return False
    done = subprocess.run(
        ["Rscript", "-e", f"quit(status = !requireNamespace('{package}', quietly = TRUE))"],
        env=env,
        capture_output=True,
    )
    return done.returncode == 0


def run_r(script, args, env):
    """Rscript under /usr/bin/time: (per-chain seconds, peak RSS in bytes or None)."""
    path = Path(tempfile.mkstemp(suffix=".R")[1])
    path.write_text(script)
    timer = ["/usr/bin/time", "-f", "maxrss_kb %M"] if Path("/usr/bin/time").exists() else []
    done = subprocess.run([*timer, "Rscript", str(path), *map(str, args)], env=env, capture_output=True, text=True)
    path.unlink()
    if done.returncode:
        raise RuntimeError(f"Rscript failed:\n{done.stderr[-3000:]}")
    seconds = [float(line.split()[2]) for line in done.stdout.splitlines() if line.startswith("seconds")]
    rss = [int(line.split()[1]) * 1024 for line in done.stderr.splitlines() if line.startswith("maxrss_kb")]
    return seconds, (rss[-1] if rss else None)


def bglr_section(datasets, args, env):
    import arviz as az

    files = {"BayesA": ["ScaleBayesA"], "BRR": ["varB"], "BayesC": ["parBayesC"]}
    for name, folder, elements in datasets:
        codes_shape = np.load(folder / "codes.npy", mmap_mode="r").shape
        for model in ("BayesA", "BRR", "BayesC"):
            n_iter = args.burn + args.draws
            seconds, rss = run_r(
                BGLR_R, [folder, model, n_iter, args.burn, args.chains, codes_shape[1], codes_shape[0]], env
            )
            draws = {
                "sigma2_e": [
                    np.loadtxt(folder / f"bglr_{model}_{c}_varE.dat")[-args.draws :] for c in range(1, args.chains + 1)
                ]
            }
            for c in range(1, args.chains + 1):
                for stem in files[model]:
                    path = folder / f"bglr_{model}_{c}_ETA_1_{stem}.dat"
                    header = not path.read_text().split(maxsplit=1)[0][0].isdigit()  # parBayesC: "probIn varB"
                    values = np.loadtxt(path, ndmin=2, skiprows=int(header))[-args.draws :]
                    labels = {"ScaleBayesA": ["scale"], "varB": ["sigma2_alpha"], "parBayesC": ["pi", "sigma2_alpha"]}[
                        stem
                    ]
                    for k, label in enumerate(labels):
                        draws.setdefault(label, []).append(values[:, k])
            wall = sum(seconds)
            result = {
                "per_iter": float(np.median(seconds)) / n_iter,
                "wall": wall,
                "peak_rss": rss,
                "ess": {k: float(az.ess(np.array(v), method="bulk")) for k, v in draws.items()},
            }
            report_fit("R", f"BGLR {model} {name}", result, elements)


def mcmcglmm_section(args, env, folder):
    import arviz as az

    n_iter = args.burn + args.draws
    seconds, rss = run_r(MCMCGLMM_R, [DATA, folder, n_iter, args.burn, args.chains], env)
    vcv = [np.loadtxt(folder / f"vcv_{c}.txt", skiprows=1) for c in range(1, args.chains + 1)]
    va = np.array([v[:, 0] for v in vcv])
    ve = np.array([v[:, 1] for v in vcv])
    ess = {
        "sigma2_e": float(az.ess(ve, method="bulk")),
        "sigma2_a": float(az.ess(va, method="bulk")),
        "h2": float(az.ess(va / (va + ve), method="bulk")),
    }
    report_fit(
        "R",
        "MCMCglmm animal gryphon",
        {"per_iter": float(np.median(seconds)) / n_iter, "wall": sum(seconds), "ess": ess, "peak_rss": rss},
    )


# ---------------------------------------------------------------------------------------------- start-up

FIT_20 = """
import time
t0 = time.perf_counter()
import bayesgen as bg
sim = bg.simulate(n_founders=50, n_generations=3, n_offspring=100, n_markers=0, h2=0.4, seed=1)
ped = bg.Pedigree.from_dataframe(sim.pedigree, id="id", sire="sire", dam="dam")
model = bg.AnimalModel(sim.phenotypes, "y", column="id", pedigree=ped, fixed=["sex"])
model.sample(draws=10, burn=10, chains=1, seed=1, progress=False)
"""


def wall(code):
    t = time.perf_counter()
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True, capture_output=True)
    return time.perf_counter() - t


def startup_section():
    imports = [wall("import bayesgen") for _ in range(5)]
    t = float(np.median(imports))
    row(
        "startup",
        "python -c 'import bayesgen'",
        "median of 5",
        f"{t:.2f} s",
        f"min {min(imports):.2f}; target <= 0.5 s: {'met' if t <= 0.5 else 'not met'}; {load()}",
    )
    wall(FIT_20)  # warm the numba cache
    fits = [wall(FIT_20) for _ in range(3)]
    t = float(np.median(fits))
    row(
        "startup",
        "import + 20-iteration animal model",
        "median of 3, warm",
        f"{t:.2f} s",
        f"min {min(fits):.2f}; target <= 2 s: {'met' if t <= 2 else 'not met'}; {load()}",
    )


# ---------------------------------------------------------------------------------------------- parallel


def parallel_section(folder, args):
    import warnings

    import pandas as pd
    import xarray as xr

    import bayesgen as bg

    codes = np.load(folder / "codes.npy")
    y = np.loadtxt(folder / "y.txt")
    ids = [f"i{i}" for i in range(codes.shape[1])]
    geno = bg.Genotypes.from_codes(ids, codes, [f"m{j}" for j in range(codes.shape[0])], drop_monomorphic=False)
    model = bg.BayesA(pd.DataFrame({"id": ids, "y": y}), "y", "id", geno)
    draws = args.parallel_draws
    timings = {1: [], 2: []}
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.sample(draws=2, burn=0, chains=2, seed=0, progress=False, check_convergence=False)
        for _ in range(3):
            for cores in (1, 2):
                t = time.perf_counter()
                results[cores] = model.sample(
                    draws=draws,
                    burn=0,
                    chains=2,
                    cores=cores,
                    seed=5,
                    progress=False,
                    check_convergence=False,
                    store="summary",
                )
                timings[cores].append(time.perf_counter() - t)
    same = all(xr.Dataset.equals(results[1][g], results[2][g]) for g in ("posterior",))
    speedup = float(np.median(timings[1]) / np.median(timings[2]))
    row(
        "parallel",
        f"BayesA 2 chains x {draws} draws, {codes.shape[1]}x{codes.shape[0]}",
        "cores=2 / cores=1 throughput",
        f"{speedup:.2f}x",
        f"identical draws: {same}; target >= 1.8: {'met' if speedup >= 1.8 else 'not met'}; {load()}",
    )


# ---------------------------------------------------------------------------------------------- memory

MEMORY = r"""
import json, sys, warnings
import numpy as np, pandas as pd
import bayesgen as bg
warnings.simplefilter("ignore")
prefix, iterations = sys.argv[1], int(sys.argv[2])

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

small = bg.read_plink(prefix, report=False, markers=[f"rs{j}" for j in range(200)])
y = np.loadtxt(prefix + ".y")
data = pd.DataFrame({"id": list(small.ids), "y": y})
bg.BayesCPi(data, "y", "id", small).sample(draws=2, burn=1, chains=1, seed=0, progress=False, store="summary",
                                           check_convergence=False)  # imports, compiles
del small
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak RSS to the current RSS
before = rss("VmRSS")
geno = bg.read_plink(prefix, report=False)
model = bg.BayesCPi(data, "y", "id", geno)
model.sample(draws=iterations, burn=0, chains=1, seed=1, progress=False, store="summary", check_convergence=False)
print(json.dumps({"before": before, "peak": rss("VmHWM"), "n": geno.n_individuals, "p": geno.n_markers}))
"""


def memory_section(folder: Path, args):
    n, p = args.memory_n, args.memory_p
    prefix = folder / "memory"
    rng = np.random.default_rng(3)
    with open(prefix.with_suffix(".bed"), "wb") as handle:  # SNP-major .bed, written in blocks of markers
        handle.write(bytes([0x6C, 0x1B, 0x01]))
        bits = np.array([3, 2, 0, 1], dtype=np.uint8)  # copies of A1 0/1/2, missing -> PLINK's 2 bits
        for start in range(0, p, 2000):
            block = simulate_codes(n, min(2000, p - start), seed=start + 11, missing=0.01)
            body = bits[block]
            padded = np.zeros((body.shape[0], (n + 3) // 4 * 4), dtype=np.uint8)
            padded[:, :n] = body
            packed = padded[:, 0::4] | padded[:, 1::4] << 2 | padded[:, 2::4] << 4 | padded[:, 3::4] << 6
            handle.write(packed.astype(np.uint8).tobytes())
    prefix.with_suffix(".fam").write_text("".join(f"f i{k} 0 0 0 -9\n" for k in range(n)))
    prefix.with_suffix(".bim").write_text("".join(f"1\trs{j}\t0\t{j * 100}\tA\tC\n" for j in range(p)))
    np.savetxt(str(prefix) + ".y", rng.standard_normal(n))
    r = child_json([sys.executable, "-c", MEMORY, str(prefix), str(args.memory_iterations)])
    int8 = r["n"] * r["p"]
    rise = r["peak"] - r["before"]
    row(
        "memory",
        f"BayesCpi from PLINK {r['n']}x{r['p']}, 1% missing",
        "peak RSS rise / int8 bytes",
        f"{rise / int8:.2f}x",
        f"rise {rise / 1e6:.0f} MB over {r['before'] / 1e6:.0f} MB before reading; "
        f"int8 {int8 / 1e6:.0f} MB; store='summary'; target <= 1.3x: {'met' if rise <= 1.3 * int8 else 'not met'}",
    )


# ---------------------------------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="models on n=1000, p=10000 and the mice with 100+100 draws; fewer repeats"
    )
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--p", type=int, default=50000)
    parser.add_argument("--kernel-n", type=int, default=2000, help="records of the kernel section's matrices")
    parser.add_argument("--kernel-p", type=int, default=50000, help="markers of the kernel section's matrices")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--burn", type=int, default=500)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds of the kernel timings")
    parser.add_argument("--models", default="BayesA,BRR,BayesCPi")
    parser.add_argument("--sections", default="kernel,model,R,startup,parallel,memory")
    parser.add_argument("--no-mice", action="store_true")
    parser.add_argument("--parallel-draws", type=int, default=30)
    parser.add_argument("--memory-n", type=int, default=10000)
    parser.add_argument("--memory-p", type=int, default=50000)
    parser.add_argument("--memory-iterations", type=int, default=5)
    args = parser.parse_args(argv)
    if args.quick:
        defaults = parser.parse_args([])
        for key, value in {
            "n": 1000,
            "p": 10000,
            "draws": 100,
            "burn": 100,
            "repeats": 5,
            "parallel_draws": 10,
            "memory_iterations": 2,
        }.items():
            if getattr(args, key) == getattr(defaults, key):
                setattr(args, key, value)
    sections = set(args.sections.split(","))
    import numba

    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores; "
        f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}; {load()}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print("command: python benchmarks/performance.py " + " ".join(sys.argv[1:]))
    print(f"  {'section':<9}{'case':<44}{'quantity':<30}{'value':>12}  note")
    mice = not args.no_mice and (DATA / "mice_X.csv.gz").exists()
    if not mice and not args.no_mice:
        print(f"  (mice: {DATA / 'mice_X.csv.gz'} not found; skipped)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        codes = simulate_codes(args.n, args.p, seed=1)
        y = simulate_phenotype(codes, 0.5, 500, seed=2)
        sim_dir = write_dataset(folder, "simulated", codes, y)
        datasets = [(f"simulated {args.n}x{args.p}", sim_dir, args.n * args.p)]
        if mice:
            mice_dir = mice_dataset(folder)
            datasets.append(("mice 1814x10346", mice_dir, 1814 * 10346))
        if "kernel" in sections:
            kn, kp = args.kernel_n, args.kernel_p
            matrices = [
                ("simulated", codes if (kn, kp) == (args.n, args.p) else simulate_codes(kn, kp, seed=1), 0),
                ("simulated, 1% missing", simulate_codes(kn, kp, seed=1, missing=0.01), kn // 20),
            ]
            if mice:
                matrices.append(("mice", np.load(mice_dir / "codes.npy"), 0))
            kernel_section(matrices, args.repeats)
            del matrices
        del codes
        models = args.models.split(",")
        if "model" in sections:
            print()
            model_section(datasets, models, args)
            if (DATA / "gryphon.csv").exists():
                report_fit(
                    "model",
                    "bayesgen animal gryphon",
                    child_json(
                        [
                            sys.executable,
                            "-c",
                            FIT,
                            str(DATA),
                            "animal",
                            str(args.draws),
                            str(args.burn),
                            str(args.chains),
                        ]
                    ),
                )
        if "R" in sections:
            print()
            env = r_environment()
            if r_has("BGLR", env):
                bglr_section(datasets, args, env)
            else:
                row("R", "BGLR", "-", "skipped", "skipped: R/BGLR not found")
            if r_has("MCMCglmm", env) and (DATA / "gryphon.csv").exists():
                mcmcglmm_section(args, env, folder)
            else:
                row("R", "MCMCglmm", "-", "skipped", "skipped: R/MCMCglmm (or ../shared/data) not found")
        if "startup" in sections:
            print()
            startup_section()
        if "parallel" in sections:
            print()
            parallel_section(sim_dir, args)
        if "memory" in sections:
            print()
            memory_section(folder, args)


if __name__ == "__main__":
    main()
