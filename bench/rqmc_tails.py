#!/usr/bin/env python3
"""Why SciPy's ``qmc_quad`` looks 3-40x more accurate than quadpipe's RQMC
at d = 2 over 5 seeds, and why that does not survive more seeds.

SciPy scrambles Sobol points with a random linear matrix and a digital
shift (LMS); quadpipe uses Owen's nested uniform scramble. The two have the
same variance for every integrand (a pair of points has the same joint
distribution under both), but LMS's errors are heavy-tailed: most seeds
land far closer than Owen's, a few far worse. Five seeds see only the
typical case; the RMS over many seeds, the tail and the coverage of the
95% interval show the whole distribution.

    cargo build --release --example peers
    /work/venv/bin/python bench/rqmc_tails.py                # 200 seeds, 2^16 and 2^20, d = 2
    /work/venv/bin/python bench/rqmc_tails.py --seeds 50 --sizes 16 --dims 2,5
"""

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

# Student's t, 7 degrees of freedom, 97.5%: both tools average 8 replicas.
T7 = 2.3646


def summary(runs):
    rel = np.array([abs(r) for r, _ in runs])
    z = np.array([z for _, z in runs])
    return dict(rms=math.sqrt(float(np.mean(rel ** 2))), median=float(np.median(rel)),
                p99=float(np.quantile(rel, 0.99)), max=float(rel.max()),
                cover=float(np.mean(z <= T7)), zmax=float(z.max()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--sizes", default="16,20")
    ap.add_argument("--dims", default="2")
    ap.add_argument("--families", default=",".join(f for f in peers.FAMILIES if f != "discontinuous"))
    ap.add_argument("--binary", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(peers.ROOT, "target")), "release", "examples", "peers"))
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    dims = [int(s) for s in a.dims.split(",")]
    families = a.families.split(",")
    seeds = range(1, a.seeds + 1)

    jobs = [(f, d, 1 << k, s, "rqmc") for f in families for d in dims for k in sizes for s in seeds]
    qp = peers.run_quadpipe(jobs, a.binary)
    print(f"{a.seeds} seeds; relative errors; cover = share of runs inside the 95% interval "
          f"(value ± {T7} σ, t with 7 dof); z = |error| / σ\n")
    print("| family | d | N | tool | RMS | median | 99th pct | max | cover | max z |")
    print("|---|--:|--:|---|--:|--:|--:|--:|--:|--:|")
    for f in families:
        for d in dims:
            exact = peers.exact(f, d)
            for k in sizes:
                for tool in ("qmc_quad", "qp_rqmc"):
                    runs = []
                    for s in seeds:
                        if tool == "qp_rqmc":
                            value, err, _ = qp[(f, d, 1 << k, s, "rqmc")]
                        else:
                            value, err = peers.run_qmc_quad(f, d, 1 << k, s)
                        z = abs(value - exact) / err if err > 0 else math.inf
                        runs.append(((value - exact) / abs(exact), z))
                    m = summary(runs)
                    print(f"| {f} | {d} | 2^{k} | {tool} | {m['rms']:.2e} | {m['median']:.2e} | "
                          f"{m['p99']:.2e} | {m['max']:.2e} | {100 * m['cover']:.1f}% | {m['zmax']:.1f} |",
                          flush=True)


if __name__ == "__main__":
    main()
