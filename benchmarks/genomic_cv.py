"""5-fold cross-validation of every marker prior, GBLUP and the pedigree kernel on real data.

For each data set (wheat env1: 599 lines x 1,279 DArT markers, pedigree ``wheat_A``; mice
Obesity.BMI: 1,814 mice x 10,346 SNPs, pedigree ``mice_A``; both from BGLR 1.1.5, see
``../shared/data/README.md``) and each model, under BGLR's default priors (``priors="bglr"``,
marker priors at their BGLR-style defaults; BayesB and BayesCpi sample pi under Beta(5.5, 5.5)):

* ``bg.cross_validate`` over one fixed, seeded assignment of the phenotyped records to 5
  balanced folds (the same folds for every model): mean and sd over folds of the accuracy
  r(yhat, y) and of the slope of y on yhat;
* one fit to all records: posterior mean of h2 and sigma2_e (and pi where sampled), and the
  milliseconds per iteration of one chain (a short warm-up fit first, so no compilation is
  timed), as CPU time of this process and as wall-clock time.

Every fit runs its chains one after another (``cores=1``). On a shared machine the wall-clock
time grows with the load (printed with the machine), the CPU time much less: read the CPU
column as the cost of an iteration on one core. The machine and the command line come first.

Run (from the repository root; ``--data mice`` takes about half an hour)::

    python benchmarks/genomic_cv.py --data wheat --draws 2000 --burn 500
    python benchmarks/genomic_cv.py --data mice --draws 600 --burn 200 --chains 1
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import bayesgen as bg

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

#: Model labels in table order; GBLUP and the pedigree kernel are built separately.
MODELS = ("BayesA", "BRR", "BayesB", "BayesC", "BayesCpi", "BayesLasso", "BayesR", "GBLUP", "pedigree")

#: BGLR 1.1.5's figures from the same data under its default priors (issue 8): residual variance
#: posterior means and the accuracy on BGLR's held-out fifth.
BGLR_REFERENCE = {
    "wheat": {
        "sigma2_e": {"BRR": 0.546, "BayesB": 0.548, "BayesCpi": 0.550, "BayesLasso": 0.561, "BayesA": 0.547},
        "accuracy": "about 0.48 for every marker prior, 0.29 for the pedigree kernel wheat_A",
    },
    "mice": {"sigma2_e": {"BRR": 0.00287, "BayesCpi": 0.00269}, "accuracy": "about 0.27 (BayesC pi about 0.03)"},
}


def load(name: str, data_dir: Path):
    """(records, id column, phenotype column, genotypes, pedigree relationship DataFrame)."""
    if name == "wheat":
        x = pd.read_csv(data_dir / "wheat_X.csv.gz")
        records = pd.read_csv(data_dir / "wheat_Y.csv")[["line_id", "env1"]]
        genotypes = bg.Genotypes(x["line_id"], x.drop(columns="line_id").to_numpy(np.int8), list(x.columns[1:]))
        relationship = pd.read_csv(data_dir / "wheat_A.csv.gz", index_col=0)
        return records, "line_id", "env1", genotypes, relationship
    if name == "mice":
        genotypes = bg.Genotypes.from_csv(data_dir / "mice_X.csv.gz", column="SUBJECT.NAME")
        records = pd.read_csv(
            data_dir / "mice_pheno.csv", usecols=["SUBJECT.NAME", "Obesity.BMI"], dtype={"SUBJECT.NAME": str}
        )
        relationship = pd.read_csv(data_dir / "mice_A.csv.gz", index_col=0, dtype={"SUBJECT.NAME": str})
        relationship.index = relationship.index.astype(str)
        return records, "SUBJECT.NAME", "Obesity.BMI", genotypes, relationship
    raise ValueError(f"unknown data set {name!r}; expected 'wheat' or 'mice'.")


def build(label: str, records, id_column: str, trait: str, genotypes, relationship):
    """The model ``label`` on these records under BGLR's default priors."""
    options = dict(priors="bglr")
    pi = bg.Beta(5.5, 5.5)  # BGLR samples pi for BayesB and BayesC by default (probIn 0.5, counts 10)
    if label == "pedigree":
        kernel = bg.Kernel(id_column, relationship, name="A")
        return bg.Model(records, trait, [bg.Fixed(), kernel], **options)
    factory = {
        "BayesA": bg.BayesA,
        "BRR": bg.BRR,
        "BayesC": bg.BayesC,
        "BayesLasso": bg.BayesLasso,
        "BayesR": bg.BayesR,
        "GBLUP": bg.GBLUP,
    }
    if label == "BayesB":
        return bg.BayesB(records, trait, id_column, genotypes, pi=pi, **options)
    if label == "BayesCpi":
        return bg.BayesCPi(records, trait, id_column, genotypes, pi=pi, **options)
    return factory[label](records, trait, id_column, genotypes, **options)


def fold_labels(n: int, folds: int, seed: int) -> np.ndarray:
    """Balanced random fold labels 1..folds for n records (sizes differ by at most one)."""
    labels = np.empty(n, dtype=np.int64)
    labels[np.random.default_rng(seed).permutation(n)] = np.arange(n) % folds + 1
    return labels


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load_average = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{cpu}; {os.cpu_count()} logical cores (load average {load_average}); {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, numpy {np.__version__}, "
        f"bayesgen {bg.__version__}"
    )


def evaluate(label, records, id_column, trait, genotypes, relationship, *, folds, args) -> dict:
    """Cross-validation scores and a full-data fit of one model."""
    model = build(label, records, id_column, trait, genotypes, relationship)
    run = dict(draws=args.draws, burn=args.burn, chains=args.chains, cores=1, progress=False)
    started = time.perf_counter()
    table = bg.cross_validate(model, folds="fold", seed=args.seed, **run)
    cv_seconds = time.perf_counter() - started
    model.sample(draws=5, burn=5, chains=1, seed=0, progress=False, check_convergence=False, store="summary")
    started, cpu_started = time.perf_counter(), time.process_time()
    idata = model.sample(**run, seed=args.seed, check_convergence=False, store="summary")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    iterations = args.chains * (args.draws + args.burn)
    post = idata.posterior
    if label in ("GBLUP", "pedigree"):
        # h2 of a kernel term is sigma2 / (sigma2 + sigma2_e): the variance of u_i is sigma2 K_ii, so on K's scale.
        # For comparison with the marker priors, also sigma2 mean(diag K) / (sigma2 mean(diag K) + sigma2_e).
        kernel = model.term(bg.Kernel)
        diagonal = float(np.mean(np.diag(bg.grm(genotypes) if label == "GBLUP" else relationship)))
        genetic = diagonal * post[kernel.variance_name].values
        h2_scaled = float(np.mean(genetic / (genetic + post["sigma2_e"].values)))
    else:
        h2_scaled = np.nan
    row = {
        "model": label,
        "accuracy": table["accuracy"].mean(),
        "accuracy_sd": table["accuracy"].std(ddof=1),
        "slope": table["slope"].mean(),
        "slope_sd": table["slope"].std(ddof=1),
        "h2": float(post["h2"].mean()),
        "h2_scaled": h2_scaled,
        "sigma2_e": float(post["sigma2_e"].mean()),
        "pi": float(post["pi"].mean()) if "pi" in post and post["pi"].ndim == 2 else np.nan,
        "cpu_ms_per_iteration": 1000 * cpu_seconds / iterations,
        "ms_per_iteration": 1000 * seconds / iterations,
        "cv_seconds": cv_seconds,
    }
    print(
        f"  {label}: accuracy {row['accuracy']:.3f} ± {row['accuracy_sd']:.3f}, h2 {row['h2']:.3f}, "
        f"sigma2_e {row['sigma2_e']:.4g}, {row['cpu_ms_per_iteration']:.2f} ms/iteration CPU "
        f"({row['ms_per_iteration']:.2f} wall), CV {cv_seconds:.0f} s, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return row


def markdown(name: str, rows: list[dict], reference: dict) -> str:
    """One Markdown table: accuracy ± sd over folds, slope ± sd, h2, sigma2_e (BGLR's beside it), ms/iteration
    (CPU, wall in parentheses)."""
    digits = 3 if name == "wheat" else 5
    lines = [
        "| model | accuracy r(ŷ, y) | slope | h² | σ²ₑ | BGLR σ²ₑ | ms / iteration, CPU (wall) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        label = {"BayesCpi": "BayesCπ", "pedigree": f"pedigree kernel ({name}_A)"}.get(row["model"], row["model"])
        if not np.isnan(row["pi"]):
            label += f" (π {row['pi']:.3f})"
        bglr = reference["sigma2_e"].get(row["model"])
        scaled = "" if np.isnan(row["h2_scaled"]) else f" ({row['h2_scaled']:.3f}*)"
        lines.append(
            f"| {label} | {row['accuracy']:.3f} ± {row['accuracy_sd']:.3f} | "
            f"{row['slope']:.2f} ± {row['slope_sd']:.2f} | {row['h2']:.3f}{scaled} | {row['sigma2_e']:.{digits}f} | "
            f"{'' if bglr is None else bglr} | {row['cpu_ms_per_iteration']:.2f} ({row['ms_per_iteration']:.2f}) |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="wheat,mice", help="comma-separated data sets: wheat, mice (default both)")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {', '.join(MODELS)}")
    parser.add_argument("--draws", type=int, default=1000, help="draws kept per chain (default 1000)")
    parser.add_argument("--burn", type=int, default=500, help="burn-in iterations per chain (default 500)")
    parser.add_argument("--chains", type=int, default=2, help="chains per fit, run serially (default 2)")
    parser.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the fold assignment and every fit")
    parser.add_argument("--data-dir", type=Path, default=DATA, help=f"folder of the shared data (default {DATA})")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.data.split(",") if n.strip()]
    labels = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(labels) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {', '.join(MODELS)}")

    print(f"machine: {machine()}")
    print(f"command: python {' '.join(sys.argv)}")
    print(
        f"{args.folds} folds (one seeded assignment per data set, seed {args.seed}), {args.chains} chain(s) x "
        f"{args.draws} draws after {args.burn} per fit, one thread",
        flush=True,
    )
    for name in names:
        started = time.perf_counter()
        records, id_column, trait, genotypes, relationship = load(name, args.data_dir)
        records = records.assign(fold=fold_labels(len(records), args.folds, args.seed))
        print(
            f"\n{name}: {len(records)} records x {genotypes.n_markers} markers, phenotype {trait} "
            f"(read in {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        rows = []
        for label in labels:  # each model's table row is printed as soon as it is done
            rows.append(
                evaluate(label, records, id_column, trait, genotypes, relationship, folds=args.folds, args=args)
            )
            print("    " + markdown(name, rows[-1:], BGLR_REFERENCE[name]).splitlines()[-1], flush=True)
        print(
            f"\n{name}: {args.folds}-fold CV (mean ± sd over folds), full-data posterior means, "
            f"BGLR 1.1.5's sigma2_e beside ours; BGLR's held-out accuracy: {BGLR_REFERENCE[name]['accuracy']}"
        )
        print(markdown(name, rows, BGLR_REFERENCE[name]), flush=True)
        print("* h2 with the kernel's variance scaled by the mean of diag(K), comparable with the marker priors' h2")
        print(
            f"({name} took {time.perf_counter() - started:.0f} s; load average now "
            f"{', '.join(f'{v:.1f}' for v in os.getloadavg())})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
