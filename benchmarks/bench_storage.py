"""File size and write time of the InferenceData: arviz's ``to_netcdf`` against ``bayesgen.output.save``.

Run:  python benchmarks/bench_storage.py [--skip-gryphon]

Two fits, each sampled once with full draws:

* the quickstart, ``models/animal.toml`` (1,100 animals, 4 chains x 2,000 draws);
* gryphon birth weight ``bwt ~ 1 + sex + animal + byear + mother`` (needs ../shared/data),
  2 chains x 20,000 draws after 1,000 burn-in.

For each it prints the sampling wall time, then size and write time of: ``idata.to_netcdf``
(arviz: float64, zlib level 4, no shuffle; what ``bayesgen fit`` wrote before), ``save()``
(float32 high-dimensional draws, no compression), ``save(level=1)`` (shuffle + zlib 1), and the store that
``store="auto"`` chooses (for a "summary" choice the model is sampled again in that mode
and that file is timed too). Writes go to a temporary folder that is removed afterwards.
"""

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

import bayesgen as bg
from bayesgen.cli.spec import load_spec
from bayesgen.output import choose_store, high_dimensional_values, save

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def measure_writes(label, idata, seconds_sampling, folder: Path, rows: list) -> None:
    writers = {
        "to_netcdf (arviz default)": lambda p: idata.to_netcdf(str(p)),
        "save(): float32, no compression": lambda p: save(idata, p),
        "save(level=1): float32, shuffle + zlib 1": lambda p: save(idata, p, level=1),
    }
    for name, write in writers.items():
        path = folder / "out.nc"
        _, seconds = timed(lambda: write(path))
        rows.append(
            {
                "fit": label,
                "writer": name,
                "MB": path.stat().st_size / 1e6,
                "write s": seconds,
                "sampling s": seconds_sampling,
                "write / sampling": seconds / seconds_sampling,
            }
        )
        path.unlink()


def run(label, model, sampler: dict, folder: Path, rows: list) -> None:
    n_values = high_dimensional_values(model.variables())
    chosen = choose_store(n_values, sampler["draws"], sampler["chains"])
    print(f"{label}: {model}")
    print(
        f"  {n_values} high-dimensional values per draw x {sampler['draws']} draws x {sampler['chains']} chains"
        f" = {n_values * sampler['draws'] * sampler['chains']:,}; store='auto' chooses {chosen!r}",
        flush=True,
    )
    idata, seconds = timed(lambda: model.sample(progress=False, **{**sampler, "store": "full"}))
    print(f"  sampling (store='full'): {seconds:.1f} s", flush=True)
    measure_writes(label + " [full]", idata, seconds, folder, rows)
    del idata
    if chosen == "summary":
        idata, seconds = timed(lambda: model.sample(progress=False, **{**sampler, "store": "summary"}))
        print(f"  sampling (store='summary'): {seconds:.1f} s", flush=True)
        path = folder / "out.nc"
        _, write_seconds = timed(lambda: save(idata, path))
        rows.append(
            {
                "fit": label + " [auto = summary]",
                "writer": "save(): float32, no compression",
                "MB": path.stat().st_size / 1e6,
                "write s": write_seconds,
                "sampling s": seconds,
                "write / sampling": write_seconds / seconds,
            }
        )
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-gryphon", action="store_true", help="only the quickstart")
    args = parser.parse_args()
    rows: list = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = load_spec(ROOT / "models" / "animal.toml")
        sampler = {k: v for k, v in spec.sampler.items() if k != "store"}
        run("quickstart (models/animal.toml)", spec.model, sampler, folder, rows)
        if not args.skip_gryphon:
            if not (DATA / "gryphon.csv").exists():
                raise SystemExit(f"gryphon data not found in {DATA}; use --skip-gryphon")
            ped = bg.Pedigree.from_csv(DATA / "gryphonped.csv", id="id", sire="father", dam="mother")
            data = pd.read_csv(DATA / "gryphon.csv").dropna(subset=["bwt"])
            data["sex"] = data["sex"].map({1: "F", 2: "M"})  # a factor, not a covariate
            model = bg.AnimalModel(data, "bwt", "animal", ped, fixed=["sex"], random=["byear", "mother"])
            run(
                "gryphon 4 components, 2 x 20,000",
                model,
                {"draws": 20_000, "burn": 1_000, "chains": 2, "seed": 2010},
                folder,
                rows,
            )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 160, "display.max_columns", 10, "display.max_colwidth", 60):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
