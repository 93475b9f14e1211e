"""Time and peak memory of ``read_plink`` (and ``grm``) against the bed-reader glue it replaces.

Run:  python benchmarks/bench_plink.py [--n 2000] [--p 20000] [--repeats 3] [--mice]

Writes a random SNP-major .bed of n individuals x p markers (random 2-bit codes, so about a
quarter missing) to a temporary folder, then, each in a fresh process:

* ``read_plink(prefix)``: median wall time over ``--repeats`` reads; tracemalloc peak (numpy
  and Python allocations) and the rise of the peak resident set size (``VmHWM`` after
  resetting it through ``/proc/self/clear_refs``; includes bed-reader's Rust buffers), both
  as a multiple of the n x p int8 matrix;
* the glue used before: ``Genotypes(bed.iid, bed.read(), bed.sid)`` (bed-reader's float32
  read; its int8 read marks missing genotypes -127, which ``Genotypes`` rejects);
* ``grm(genotypes)``: wall time and tracemalloc peak against the n x n float64 result.

``--mice`` also writes ../shared/data/mice_X.csv.gz (1,814 x 10,346) to a .bed with
bed-reader's ``to_bed``, reads it back with ``read_plink`` and checks the codes are equal.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bed_reader import to_bed

from bayesgen.data import Genotypes, read_plink

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

CHILD = r"""
import json, sys, time, tracemalloc
from bed_reader import open_bed
from bayesgen.data import Genotypes, grm, read_plink

prefix, what, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])

def glue():
    with open_bed(prefix + ".bed") as bed:
        # float32 with NaN for missing: with dtype="int8" the missing value -127 is rejected
        return Genotypes(bed.iid, bed.read(dtype="float32"), bed.sid, drop_monomorphic=False)

def reader():
    return read_plink(prefix, report=False)

def rss_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])

run = {"read_plink": reader, "glue": glue}.get(what)
small = read_plink(prefix, report=False, markers=[f"rs{j}" for j in range(50)])  # compile kernels
grm(small)
if run is not None:
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); g = run(); times.append(time.perf_counter() - t); del g
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak RSS to the current RSS
    before = rss_kb("VmRSS")
    g = run()
    rss_rise = (rss_kb("VmHWM") - before) * 1024
    del g
    tracemalloc.start(); g = run(); peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
    out = {"seconds": sorted(times)[len(times) // 2], "traced_peak": peak, "rss_rise": rss_rise,
           "n": g.n_individuals, "p": g.n_markers}
else:  # grm
    g = read_plink(prefix, report=False)
    t = time.perf_counter(); G = grm(g); seconds = time.perf_counter() - t; del G
    tracemalloc.start(); G = grm(g); peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
    out = {"seconds": seconds, "traced_peak": peak, "n": g.n_individuals, "p": g.n_markers}
print(json.dumps(out))
"""


def write_random_bed(prefix: Path, n: int, p: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    with open(prefix.with_suffix(".bed"), "wb") as handle:
        handle.write(bytes([0x6C, 0x1B, 0x01]))
        for start in range(0, p, 1000):
            rows = min(1000, p - start)
            body = rng.integers(0, 256, size=(rows, (n + 3) // 4), dtype=np.uint8)
            if n % 4:  # zero the padding bits of each marker's last byte
                body[:, -1] &= (1 << (2 * (n % 4))) - 1
            handle.write(body.tobytes())
    prefix.with_suffix(".fam").write_text("".join(f"f i{k} 0 0 0 -9\n" for k in range(n)))
    prefix.with_suffix(".bim").write_text("".join(f"{1 + j // 5000}\trs{j}\t0\t{j * 100}\tA\tC\n" for j in range(p)))


def child(prefix: Path, what: str, repeats: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(prefix), what, str(repeats)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{what} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def mice_round_trip(folder: Path) -> None:
    geno = Genotypes.from_csv(DATA / "mice_X.csv.gz", column="SUBJECT.NAME")
    values = np.where(geno.codes == 3, -127, geno.codes).T.astype(np.int8)
    prefix = folder / "mice"
    to_bed(prefix.with_suffix(".bed"), values, properties={"iid": geno.ids, "sid": geno.markers})
    t = time.perf_counter()
    back = read_plink(prefix, report=False)
    seconds = time.perf_counter() - t
    equal = back.ids == geno.ids and back.markers == geno.markers and np.array_equal(back.codes, geno.codes)
    print(f"mice {geno.n_individuals} x {geno.n_markers}: read_plink {seconds:.2f} s, "
          f"codes equal to the CSV's: {equal}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--p", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mice", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        prefix = Path(folder) / "random"
        write_random_bed(prefix, args.n, args.p)
        matrix = args.n * args.p
        print(f"{args.n} individuals x {args.p} markers; int8 matrix {matrix / 1e6:.1f} MB")
        for what in ("read_plink", "glue"):
            r = child(prefix, what, args.repeats)
            print(f"{what:10s}: {r['seconds']:.2f} s (median of {args.repeats}); tracemalloc peak "
                  f"{r['traced_peak'] / matrix:.2f}x, peak RSS rise {r['rss_rise'] / matrix:.2f}x "
                  "the int8 matrix")  # fmt: skip
        r = child(prefix, "grm", 1)
        g_bytes = 8 * args.n**2
        print(f"grm       : {r['seconds']:.2f} s; tracemalloc peak {r['traced_peak'] / 1e6:.1f} MB "
              f"(G itself {g_bytes / 1e6:.1f} MB; a float64 W would be {8 * matrix / 1e6:.1f} MB)")  # fmt: skip
        if args.mice:
            if (DATA / "mice_X.csv.gz").exists():
                mice_round_trip(Path(folder))
            else:
                print(f"--mice: {DATA / 'mice_X.csv.gz'} not found, skipped")


if __name__ == "__main__":
    main()
