#!/usr/bin/env python3
"""quadpipe against its peers on the Genz test families: the yardstick for
issue 13's VEGAS targets.

For each Genz family (tests/common/genz.rs: oscillatory, product peak,
corner peak, gaussian, continuous (C0), discontinuous) in d = 2, 5, 8, at
2^16 and 2^20 evaluations, over seeds 1..S (S = 5), this runs

- ``vegas``: Lepage's Python package with its defaults (VEGAS+, alpha 0.5,
  beta 0.75, all iterations averaged), called exactly as
  ``vegas.Integrator(d * [[0, 1]])(vegas.lbatchintegrand(f), nitn=10,
  neval=N // 10)`` after ``gvar.ranseed(seed)``;
- ``qmc_quad``: SciPy's randomised QMC, ``scipy.integrate.qmc_quad(g, 0, 1,
  n_estimates=8, n_points=N // 8, qrng=scipy.stats.qmc.Sobol(d,
  seed=seed))``;
- ``numpy_mc``: plain Monte Carlo, ``numpy.random.default_rng(seed)``
  uniforms, mean and standard error;
- ``qp_mc``, ``qp_rqmc``, ``qp_vegas``: quadpipe's ``Method::MonteCarlo``,
  ``Method::SOBOL`` and ``Method::VEGAS`` through ``examples/peers.rs``
  (``cargo build --release --example peers`` first), all cores.

It prints markdown tables of the RMS relative error over the seeds, and the
largest ``z = |error| / reported standard error`` per tool (a fair error
bar rarely gives z > 3.5 over a few hundred runs).

The integrands use Genz::new's parameters (c_i = h a_i / sum a, a_i = 1 +
frac(i sqrt 2), w_i = frac(i (sqrt 5 - 1)/2), h the family's difficulty);
``--params`` prints the vectors. The exact values come from the closed
forms here and are checked against the Rust ones.

    /work/venv/bin/python bench/peers.py             # the full table, ~10 min
    /work/venv/bin/python bench/peers.py --quick     # 2^14 and 2^16, 3 seeds, d = 2, 5
    /work/venv/bin/python bench/peers.py --qp-vegas 'vegas:alpha=1.0' --tools vegas,qp_vegas
    /work/venv/bin/python bench/peers.py --cubature  # adaptive cubature against SciPy's

``--cubature`` compares quadpipe's ``Method::CUBATURE`` (through
``examples/cubature.rs --peer``; ``cargo build --release --example cubature``
first) with SciPy's ``scipy.integrate.cubature(f, a, b, rule="genz-malik",
rtol=rel, atol=0)`` on the smooth families in d = 2, 3 (rel 1e-8) and 5
(rel 1e-6): integrand evaluations (points passed to ``f``), regions the
rule was applied to, and the best wall time of three runs of each.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

FAMILIES = ["oscillatory", "product_peak", "corner_peak", "gaussian", "continuous", "discontinuous"]
# Sum of c_i per family, as Family::difficulty in tests/common/genz.rs.
DIFFICULTY = dict(oscillatory=4.5, product_peak=7.0, corner_peak=3.0, gaussian=7.0,
                  continuous=10.0, discontinuous=4.5)
TOOLS = ["vegas", "qmc_quad", "numpy_mc", "qp_mc", "qp_rqmc", "qp_vegas"]


def params(family, d):
    """c and w as Genz::new makes them."""
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    sqrt2 = math.sqrt(2.0)
    frac = lambda x: x - math.floor(x)
    w = [frac(i * golden) for i in range(1, d + 1)]
    a = [1.0 + frac(i * sqrt2) for i in range(1, d + 1)]
    scale = DIFFICULTY[family] / sum(a)
    return np.array([ai * scale for ai in a]), np.array(w)


def integrand(family, d):
    """f(x) for x of shape (n, d), vectorised."""
    c, w = params(family, d)
    if family == "oscillatory":
        return lambda x: np.cos(2 * math.pi * w[0] + x @ c)
    if family == "product_peak":
        return lambda x: np.prod(1.0 / (c ** -2 + (x - w) ** 2), axis=1)
    if family == "corner_peak":
        return lambda x: (1.0 + x @ c) ** (-(d + 1))
    if family == "gaussian":
        return lambda x: np.exp(-np.sum((c * (x - w)) ** 2, axis=1))
    if family == "continuous":
        return lambda x: np.exp(-np.sum(c * np.abs(x - w), axis=1))

    def discontinuous(x):
        out = np.exp(x @ c)
        outside = x[:, 0] > w[0]
        if d > 1:
            outside |= x[:, 1] > w[1]
        out[outside] = 0.0
        return out
    return discontinuous


def exact(family, d):
    """The closed forms of Genz::exact."""
    c, w = params(family, d)
    if family == "oscillatory":
        re, im = math.cos(2 * math.pi * w[0]), math.sin(2 * math.pi * w[0])
        for ck in c:
            fr, fi = math.sin(ck) / ck, 2 * math.sin(ck / 2) ** 2 / ck
            re, im = re * fr - im * fi, re * fi + im * fr
        return re
    if family == "product_peak":
        return math.prod(ck * (math.atan(ck * (1 - wk)) + math.atan(ck * wk)) for ck, wk in zip(c, w))
    if family == "corner_peak":
        total = 0.0
        for v in range(1 << d):
            cv = sum(c[k] for k in range(d) if v >> k & 1)
            total += (-1) ** bin(v).count("1") / (1 + cv)
        return total / (math.factorial(d) * math.prod(c))
    if family == "gaussian":
        return math.prod((math.erf(ck * (1 - wk)) + math.erf(ck * wk)) * math.sqrt(math.pi) / (2 * ck)
                         for ck, wk in zip(c, w))
    if family == "continuous":
        return math.prod((2 - math.exp(-ck * wk) - math.exp(-ck * (1 - wk))) / ck for ck, wk in zip(c, w))
    return math.prod(math.expm1(ck * wk) / ck if i < 2 else math.expm1(ck) / ck
                     for i, (ck, wk) in enumerate(zip(c, w)))


def run_vegas(family, d, n, seed):
    import gvar
    import vegas
    gvar.ranseed(seed)
    f = vegas.lbatchintegrand(integrand(family, d))
    integ = vegas.Integrator(d * [[0.0, 1.0]])
    r = integ(f, nitn=10, neval=n // 10)
    return r.mean, r.sdev


def run_qmc_quad(family, d, n, seed):
    from scipy.integrate import qmc_quad
    from scipy.stats import qmc
    f = integrand(family, d)
    # qmc_quad passes x of shape (d, n), and (d,) for its centroid check.
    g = lambda x: f(np.atleast_2d(x.T)) if x.ndim > 1 else f(x[None, :])[0]
    r = qmc_quad(g, np.zeros(d), np.ones(d), n_estimates=8, n_points=n // 8,
                 qrng=qmc.Sobol(d, seed=seed))
    return r.integral, r.standard_error


def run_numpy_mc(family, d, n, seed):
    f = integrand(family, d)
    rng = np.random.default_rng(seed)
    total, squares, done = 0.0, 0.0, 0
    while done < n:
        m = min(1 << 16, n - done)
        v = f(rng.random((m, d)))
        total += v.sum()
        squares += (v * v).sum()
        done += m
    mean = total / n
    var = max(squares / n - mean * mean, 0.0) * n / (n - 1)
    return mean, math.sqrt(var / n)


def run_quadpipe(jobs, binary):
    """jobs: (family, d, n, seed, spec) -> {job: (value, std_error, seconds)}."""
    lines = "".join(f"{f} {d} {n} {s} {spec}\n" for f, d, n, s, spec in jobs)
    out = subprocess.run([binary], input=lines, capture_output=True, text=True, check=True).stdout
    results = {}
    for line in out.splitlines():
        r = json.loads(line)
        job = (r["family"], r["d"], r["n"], r["seed"], r["method"])
        ours = exact(r["family"], r["d"])
        assert abs(r["exact"] - ours) <= 1e-12 * abs(ours), (job, r["exact"], ours)
        results[job] = (r["value"], r["std_error"], r["seconds"])
    return results


SMOOTH = ["oscillatory", "product_peak", "corner_peak", "gaussian"]


def genz_malik_nodes(d):
    """Nodes of the Genz–Malik rule on one region."""
    return 1 + 4 * d + 2 * d * (d - 1) + 2 ** d


def run_scipy_cubature(family, d, rel, repeats=3):
    """SciPy's cubature with its Genz–Malik rule: value, error estimate,
    evaluations, regions and the best wall time of `repeats` runs."""
    from scipy.integrate import cubature
    f = integrand(family, d)
    count = [0]

    def counted(x):
        count[0] += x.shape[0]
        return f(x)
    best = math.inf
    for _ in range(repeats):
        count[0] = 0
        t0 = time.perf_counter()
        r = cubature(counted, np.zeros(d), np.ones(d), rule="genz-malik", rtol=rel, atol=0,
                     max_subdivisions=10 ** 9)
        best = min(best, time.perf_counter() - t0)
    assert r.status == "converged", (family, d, r.status)
    # Each split makes 2^d subregions; each is evaluated by the rule's
    # estimate and again, with the lower rule's nodes, by its error estimate.
    regions = 1 + r.subdivisions * 2 ** d
    return float(r.estimate), float(r.error), count[0], regions, best


def cubature_table(binary, families):
    """quadpipe's cubature and SciPy's on the smooth families: a markdown table."""
    problems = [(f, d, 1e-8 if d <= 3 else 1e-6) for d in (2, 3, 5) for f in families if f in SMOOTH]
    lines = "".join(f"{f} {d} {rel:e}\n" for f, d, rel in problems)
    out = subprocess.run([binary, "--peer"], input=lines, capture_output=True, text=True, check=True).stdout
    qp = {}
    for line in out.splitlines():
        r = json.loads(line)
        qp[(r["family"], r["d"])] = r
    print("| family | d | rel | SciPy evaluations | quadpipe evaluations | SciPy regions | quadpipe regions "
          "| SciPy s | quadpipe s | speed-up | SciPy error | quadpipe error | quadpipe estimate |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    bounded = 0
    for f, d, rel in problems:
        ex = exact(f, d)
        value, error, evaluations, regions, seconds = run_scipy_cubature(f, d, rel)
        r = qp[(f, d)]
        assert abs(r["exact"] - ex) <= 1e-12 * abs(ex), (f, d, r["exact"], ex)
        ours_error = abs(r["value"] - ex) / abs(ex)
        bounded += abs(r["value"] - ex) <= r["error_estimate"]
        print(f"| {f} | {d} | {rel:.0e} | {evaluations:,} | {r['evaluations']:,} | {regions:,} "
              f"| {r['evaluations'] // genz_malik_nodes(d):,} | {seconds:.3f} | {r['seconds']:.4f} "
              f"| {seconds / r['seconds']:.0f}× | {abs(value - ex) / abs(ex):.1e} | {ours_error:.1e} "
              f"| {r['error_estimate'] / abs(r['value']):.1e} |")
        print(f"# {f} d={d} done", file=sys.stderr, flush=True)
    print(f"\nquadpipe's error estimate bounds its actual error in {bounded} of {len(problems)}.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2^14 and 2^16, 3 seeds, d = 2, 5")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--sizes", default=None, help="comma-separated log2 sample counts (16,20)")
    ap.add_argument("--dims", default=None, help="comma-separated dimensions (2,5,8)")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--qp-vegas", default="vegas", help="quadpipe method spec for qp_vegas")
    ap.add_argument("--binary", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "examples", "peers"))
    ap.add_argument("--json", default=None, help="also write every run as JSON lines here")
    ap.add_argument("--params", action="store_true", help="print c and w and exit")
    ap.add_argument("--cubature", action="store_true",
                    help="adaptive cubature against SciPy's cubature (genz-malik) and exit")
    a = ap.parse_args()
    seeds = a.seeds or (3 if a.quick else 5)
    sizes = [int(s) for s in (a.sizes or ("14,16" if a.quick else "16,20")).split(",")]
    dims = [int(s) for s in (a.dims or ("2,5" if a.quick else "2,5,8")).split(",")]
    families = a.families.split(",")
    tools = a.tools.split(",")
    if a.cubature:
        binary = os.path.join(os.path.dirname(a.binary), "cubature")
        cubature_table(binary, a.families.split(","))
        return
    if a.params:
        for f in families:
            for d in dims:
                c, w = params(f, d)
                print(f"{f} d={d}: c = {np.round(c, 6).tolist()}, w = {np.round(w, 6).tolist()}, "
                      f"I = {exact(f, d):.15g}")
        return

    # quadpipe's runs in one batch per method.
    qp_specs = {"qp_mc": "mc", "qp_rqmc": "rqmc", "qp_vegas": a.qp_vegas}
    jobs = [(f, d, 1 << k, s, qp_specs[t]) for t in tools if t in qp_specs
            for f in families for d in dims for k in sizes for s in range(1, seeds + 1)]
    started = time.time()
    qp = run_quadpipe(jobs, a.binary) if jobs else {}
    python = dict(vegas=run_vegas, qmc_quad=run_qmc_quad, numpy_mc=run_numpy_mc)

    results = {}  # (tool, family, d, k) -> [(rel error, z)]
    seconds = {t: 0.0 for t in tools}
    log = open(a.json, "w") if a.json else None
    for f in families:
        for d in dims:
            exact_value = exact(f, d)
            for k in sizes:
                for t in tools:
                    runs = []
                    for s in range(1, seeds + 1):
                        if t in qp_specs:
                            value, err, sec = qp[(f, d, 1 << k, s, qp_specs[t])]
                        else:
                            t0 = time.time()
                            value, err = python[t](f, d, 1 << k, s)
                            sec = time.time() - t0
                        seconds[t] += sec
                        rel = (value - exact_value) / abs(exact_value)
                        z = abs(value - exact_value) / err if err > 0 else math.inf
                        runs.append((rel, z))
                        if log:
                            log.write(json.dumps(dict(tool=t, family=f, d=d, n=1 << k, seed=s, value=value,
                                                      std_error=err, exact=exact_value)) + "\n")
                    results[(t, f, d, k)] = runs
            print(f"# {f} d={d} done, {time.time() - started:.0f} s", file=sys.stderr, flush=True)

    rms = lambda runs: math.sqrt(sum(r * r for r, _ in runs) / len(runs))
    for k in sizes:
        print(f"\n### RMS relative error, N = 2^{k}, {seeds} seeds\n")
        ratio = "vegas" in tools and "qp_vegas" in tools
        print("| family | d | " + " | ".join(tools) + (" | qp_vegas / vegas |" if ratio else " |"))
        print("|---|--:|" + "--:|" * (len(tools) + ratio))
        for f in families:
            for d in dims:
                row = [rms(results[(t, f, d, k)]) for t in tools]
                cells = " | ".join(f"{x:.2e}" for x in row)
                extra = ""
                if ratio:
                    extra = f" | {rms(results[('qp_vegas', f, d, k)]) / rms(results[('vegas', f, d, k)]):.2f}"
                print(f"| {f} | {d} | {cells}{extra} |")
    print(f"\n### Largest z = |error| / reported σ over all runs\n")
    print("| family | " + " | ".join(tools) + " |")
    print("|---|" + "--:|" * len(tools))
    for f in families:
        zs = [max(z for d in dims for k in sizes for _, z in results[(t, f, d, k)]) for t in tools]
        print(f"| {f} | " + " | ".join(f"{z:.1f}" for z in zs) + " |")
    zs = [max(z for f in families for d in dims for k in sizes for _, z in results[(t, f, d, k)]) for t in tools]
    print("| **all** | " + " | ".join(f"{z:.1f}" for z in zs) + " |")
    print(f"\nqp_vegas is `{a.qp_vegas}`. Wall time per tool (s): "
          + ", ".join(f"{t} {seconds[t]:.0f}" for t in tools))


if __name__ == "__main__":
    main()
