"""Single-step on a simulated population: accuracy of young animals' breeding values, time, memory.

Data (``bg.simulate``, ``genetic_model="markers"``): ``--animals`` animals over 5 generations
(founders + 4 of equal size), ``--markers`` markers of which 500 are QTL, h2 = 0.3, a random
``--genotyped`` fraction of the pedigree genotyped. The phenotypes of the youngest generation
are masked; accuracy is r(posterior mean of the breeding value, true breeding value) over
the young animals, genotyped and ungenotyped apart.

Methods (each in its own process, run one after the other, so that its peak resident memory
``ru_maxrss`` is its own; the data are simulated once and passed through files):

* ``pedigree``: ``bg.AnimalModel`` (A only);
* ``gblup``: ``bg.GBLUP`` on the genotyped animals only (young genotyped animals only);
* ``ssgblup``: ``bg.SingleStep(method="ssgblup")`` (blend 0.05, tune "mean"), single-site;
* ``ssbr``: ``bg.SingleStep(method="bayes", prior=BayesCPrior())`` (pi = 0.5 fixed, J fitted);
* ``bayesc``: ``bg.BayesC`` on the genotyped animals alone (same prior), for the time per iteration.

Reported per method: accuracy (genotyped young, ungenotyped young), set-up seconds (building
the model: H^-1, or SSBR's imputation, whose own time is also given), seconds per iteration
of ``model.sample`` (wall and CPU), peak RSS (MB) once the data are loaded and at the end
(the process's peak), and the int8 genotype bytes; the load average before and after.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_single_step.py [--animals 10000 --genotyped 0.2
--markers 10000 --draws 500 --burn 300]`` (``--methods ssbr,bayesc`` to run some only).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's bayesgen

METHODS = ("pedigree", "gblup", "ssgblup", "ssbr", "bayesc")


def simulate(args, directory: Path) -> None:
    import bayesgen as bg

    offspring = (args.animals - args.animals // 25) // 4
    sim = bg.simulate(
        n_founders=args.animals - 4 * offspring,
        n_generations=4,
        n_offspring=offspring,
        n_markers=args.markers,
        n_qtl=min(500, args.markers),
        h2=0.3,
        genetic_model="markers",
        genotyped=args.genotyped,
        seed=args.seed,
    )
    sim.pedigree.to_csv(directory / "pedigree.csv", index=False)
    sim.phenotypes.to_csv(directory / "phenotypes.csv", index=False)
    np.save(directory / "codes.npy", sim.genotypes.codes)
    np.save(directory / "centre.npy", sim.genotypes.centre)
    (directory / "names.json").write_text(
        json.dumps({"ids": list(sim.genotypes.ids), "markers": list(sim.genotypes.markers)})
    )


def load(directory: Path):
    import bayesgen as bg

    pedigree = bg.Pedigree.from_csv(directory / "pedigree.csv")
    data = pd.read_csv(directory / "phenotypes.csv", dtype={"id": str})
    names = json.loads((directory / "names.json").read_text())
    genotypes = bg.Genotypes.from_codes(
        names["ids"], np.load(directory / "codes.npy"), names["markers"], drop_monomorphic=False
    )
    young = data["generation"] == data["generation"].max()
    data["y_true"] = data["y"]
    data.loc[young, "y"] = np.nan
    return data, pedigree, genotypes, young


def accuracy(values: pd.Series, data: pd.DataFrame, mask) -> float:
    chosen = data.loc[mask]
    if len(chosen) < 3:
        return float("nan")
    return float(np.corrcoef(values.loc[chosen["id"]].to_numpy(), chosen["true_bv"].to_numpy())[0, 1])


def run_method(method: str, args, directory: Path) -> dict:
    import bayesgen as bg

    data, pedigree, genotypes, young = load(directory)
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    genotyped_ids = set(genotypes.ids)
    is_genotyped = data["id"].isin(genotyped_ids)
    start = time.perf_counter()
    setup_detail = {}
    if method == "pedigree":
        model = bg.AnimalModel(data, "y", "id", pedigree, fixed=["sex"])
    elif method == "ssgblup":
        model = bg.Model(
            data, "y", [bg.Fixed(["sex"]), bg.SingleStep("id", pedigree, genotypes)], sampler="single-site"
        )
    elif method == "ssbr":
        model = bg.Model(
            data,
            "y",
            [bg.Fixed(["sex"]), bg.SingleStep("id", pedigree, genotypes, method="bayes", prior=bg.BayesCPrior())],
        )
        term = next(t for t in model.terms if getattr(t, "method", None) == "bayes")
        setup_detail = {"imputation_s": term.setup_seconds, "imputed_MB": term.imputed.nbytes / 2**20}
    else:
        subset = data.loc[is_genotyped].reset_index(drop=True)
        if method == "gblup":
            model = bg.GBLUP(subset, "y", "id", genotypes, fixed=["sex"])
        else:
            model = bg.BayesC(subset, "y", "id", genotypes, fixed=["sex"])
    setup = time.perf_counter() - start
    cpu, wall = time.process_time(), time.perf_counter()
    idata = model.sample(draws=args.draws, burn=args.burn, chains=1, seed=1, progress=False, check_convergence=False)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    iterations = args.draws + args.burn
    if method == "bayesc":
        young_genotyped = data.loc[young & is_genotyped, "id"].tolist()
        predicted = model.predict(idata, genotypes=genotypes.select(young_genotyped))["mean"].to_series()
    else:
        predicted = model.predict(idata)["mean"].to_series()
    predicted.index = predicted.index.astype(str)
    out = {
        "method": method,
        "accuracy_young_genotyped": accuracy(predicted, data, young & is_genotyped),
        "accuracy_young_ungenotyped": (
            accuracy(predicted, data, young & ~is_genotyped)
            if method in ("pedigree", "ssgblup", "ssbr")
            else float("nan")
        ),
        "setup_s": setup,
        "s_per_iteration": wall / iterations,
        "cpu_s_per_iteration": cpu / iterations,
        "rss_data_loaded_MB": rss_loaded,
        "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "genotype_int8_MB": genotypes.codes.nbytes / 2**20,
        **setup_detail,
    }
    if "h2" in idata.posterior:
        out["h2_mean"] = float(idata.posterior["h2"].mean())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--animals", type=int, default=10_000)
    parser.add_argument("--genotyped", type=float, default=0.2)
    parser.add_argument("--markers", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--burn", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one method in this process
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_method(args.one, args, Path(args.data))))
        return
    print(f"load before: {os.getloadavg()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        simulate(args, Path(tmp))
        print(f"simulated in {time.perf_counter() - start:.1f} s", flush=True)
        for method in args.methods.split(","):
            command = [
                sys.executable,
                __file__,
                "--one",
                method,
                "--data",
                tmp,
                *[f"--{k}={getattr(args, k)}" for k in ("animals", "genotyped", "markers", "draws", "burn", "seed")],
            ]
            result = subprocess.run(
                command, capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parents[1]
            )
            if result.returncode != 0:
                print(result.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{method} failed")
            rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    print(f"load after: {os.getloadavg()}")
    table = pd.DataFrame(rows).set_index("method")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string())


if __name__ == "__main__":
    main()
