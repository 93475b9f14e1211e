"""bg.gwas.lmm_scan against FaST-LMM's single_snp on the mice data (issue 19).

Obesity.BMI ~ 1 + GENDER + g, g ~ N(0, sigma2_g G) with G the VanRaden GRM of all 10,346
markers, one kernel for both programs (no leave-one-chromosome-out), h2 fixed at the null
model's estimate (FaST-LMM's default; ``reml=False`` on our side: FaST-LMM fits the null by
ML). Reports the correlation of -log10 p (LRT and Wald), the null h2 of each, and times of
``--repeats`` interleaved runs of each (the scans only; the GRM is computed once and given to
both), with the load average. Both run with one BLAS thread (threadpoolctl): on the shared
2-core machine under load, OpenBLAS's two threads made a 600 x 600 eigendecomposition take
5-9 s instead of 0.05 s, for either program. ``fastlmm`` is not a dependency of bayesgen: without it the script
says so and exits 0.

    python benchmarks/bench_lmm_scan.py [--repeats 3] [--individuals 1814]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bayesgen as bg  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--individuals", type=int, default=1814)
    args = parser.parse_args()
    try:
        from fastlmm.association import single_snp
        from pysnptools.kernelreader import KernelData
        from pysnptools.snpreader import SnpData
    except ImportError as err:
        print(f"fastlmm is not installed ({err}); skipping the comparison.")
        return
    if not (DATA / "mice_X.csv.gz").exists():
        print(f"mice data not found at {DATA}; skipping.")
        return
    pheno = pd.read_csv(DATA / "mice_pheno.csv")
    codes = pd.read_csv(DATA / "mice_X.csv.gz")
    info = pd.read_csv(DATA / "mice_map.csv").set_index("snp_id").rename(columns={"chr": "chrom", "mbp": "pos"})
    n = args.individuals
    ids = codes["SUBJECT.NAME"].astype(str).to_numpy()[:n]
    matrix = codes.iloc[:n, 1:].to_numpy(dtype=np.int8)
    geno = bg.Genotypes(ids, matrix, markers=list(codes.columns[1:]), marker_info=info[["chrom", "pos"]])
    data = pheno.iloc[:n].assign(SUBJECT=ids).set_index("SUBJECT")
    data["sex"] = data["GENDER"].astype(str)
    kernel = bg.grm(geno)

    # FaST-LMM inputs: the same genotypes (as float 0/1/2), the same kernel, the same covariate.
    kept = geno.markers
    x = geno.codes.T.astype(np.float64)
    iid = np.array([[i, i] for i in ids])
    chrom_number = pd.to_numeric(info.loc[kept, "chrom"].replace({"X": 20, "Y": 21}), errors="coerce")
    pos = np.column_stack(
        [chrom_number.to_numpy(float), np.zeros(len(kept)), info.loc[kept, "pos"].to_numpy(float) * 1e6]
    )
    snps = SnpData(iid=iid, sid=np.array(kept), val=x, pos=pos)
    y = SnpData(iid=iid, sid=["y"], val=data["Obesity.BMI"].to_numpy(float)[:, None])
    covar = SnpData(iid=iid, sid=["male"], val=(data["GENDER"].to_numpy() == "M").astype(float)[:, None])
    k0 = KernelData(iid=iid, val=kernel.to_numpy())

    def ours():
        return bg.gwas.lmm_scan(data, "Obesity.BMI", geno, kernel=kernel, covariates=["sex"], reml=False)

    def theirs():
        return single_snp(snps, y, K0=k0, covar=covar, leave_out_one_chrom=False, count_A1=False)

    from threadpoolctl import threadpool_limits

    limit = threadpool_limits(1)
    times = {"bayesgen": [], "fastlmm": []}
    for _ in range(args.repeats):
        for name, run in (("bayesgen", ours), ("fastlmm", theirs)):
            start = time.perf_counter()
            out = run()
            times[name].append(time.perf_counter() - start)
            if name == "bayesgen":
                table = out
            else:
                reference = out
    limit.restore_original_limits()
    merged = table.set_index("marker").join(reference.set_index("SNP")[["PValue", "SnpWeight", "SnpWeightSE"]])
    lp = -np.log10(merged["PValue"])
    print(f"{len(merged)} markers x {n} individuals; load average {os.getloadavg()}")
    print(f"null h2: bayesgen {table.attrs['h2']:.6f}; lambda_GC bayesgen {table.attrs['lambda_gc']:.4f}")
    for column in ("p_lrt", "p_wald"):
        r = np.corrcoef(-np.log10(merged[column]), lp)[0, 1]
        print(
            f"correlation of -log10 p ({column} vs FaST-LMM PValue): {r:.6f}; "
            f"max |difference| {np.max(np.abs(-np.log10(merged[column]) - lp)):.3g}"
        )
    print(f"correlation of effects: {np.corrcoef(merged['effect'], merged['SnpWeight'])[0, 1]:.6f}")
    for name, values in times.items():
        print(f"{name}: seconds per scan {', '.join(f'{v:.2f}' for v in values)} (min {min(values):.2f})")
    print(f"ratio bayesgen / fastlmm (min over repeats): {min(times['bayesgen']) / min(times['fastlmm']):.2f}")


if __name__ == "__main__":
    main()
