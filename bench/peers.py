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
    /work/venv/bin/python bench/peers.py --time-to-accuracy  # wall time to 1e-4, d = 5, ~4 min

``--cubature`` compares quadpipe's ``Method::CUBATURE`` (through
``examples/cubature.rs --peer``; ``cargo build --release --example cubature``
first) with SciPy's ``scipy.integrate.cubature(f, a, b, rule="genz-malik",
rtol=rel, atol=0)`` on the smooth families in d = 2, 3 (rel 1e-8) and 5
(rel 1e-6): integrand evaluations (points passed to ``f``), regions the
rule was applied to, and the best wall time of three runs of each.

``--time-to-accuracy`` asks each tool for an RMS relative error of 1e-4 over
5 seeds on every family in d = 5 and times the fastest way there. Each tool
tries its methods: quadpipe cubature (``cubature:REL`` lines of
examples/peers.rs), RQMC, VEGAS and MC; SciPy ``qmc_quad`` and
``cubature(rule="genz-malik")``; ``vegas``; NumPy MC. A random method runs
at 2^10, 2^11, ... evaluations, 5 seeds each, until the RMS relative error
over the seeds is at most 1e-4; a deterministic cubature at relative
tolerances 0.1, 0.05, 0.025, ... until its actual error is (the same run
three times). The time is the median wall time of one run at that rung.
A method stops early when one run is slower than the tool's best method
so far, and before a rung that would take its total past ``--cap`` seconds
(60) per family: the table then says "> t" with the error reached.
quadpipe runs on its default executor (one thread per core), the peers in
this Python process; the last line says how many cores were free. It
prints a markdown table, then every method's ladder.
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


TARGET = 1e-4  # the relative error --time-to-accuracy asks of every tool


class QuadpipeBatch:
    """examples/peers.rs kept running: lines in, one JSON object per line out."""

    def __init__(self, binary):
        self.process = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def runs(self, lines):
        self.process.stdin.write("".join(line + "\n" for line in lines))
        self.process.stdin.flush()
        return [json.loads(self.process.stdout.readline()) for _ in lines]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def timed(run, *args):
    """run(*args)'s value and its wall time in seconds."""
    t0 = time.perf_counter()
    value = run(*args)
    return value, time.perf_counter() - t0


def scipy_cubature(family, d, rel, max_subdivisions):
    """SciPy's cubature (genz-malik) to rel: its estimate, and whether it
    met the tolerance within max_subdivisions."""
    from scipy.integrate import cubature
    r = cubature(integrand(family, d), np.zeros(d), np.ones(d), rule="genz-malik", rtol=rel, atol=0,
                 max_subdivisions=max_subdivisions)
    return float(r.estimate), r.status == "converged"


class Ladder:
    """One tool's method, run on a rising ladder of budgets (a random method:
    the evaluations double, `seeds` seeds each) or of tolerances (a
    deterministic one: the relative tolerance halves from 0.1, the same run
    repeated) until its RMS relative error over the runs is at most TARGET."""

    def __init__(self, tool, name, random, measure):
        self.tool, self.name, self.random, self.measure = tool, name, random, measure

    def rungs(self):
        if self.random:
            return [1 << k for k in range(10, 35)]
        return [0.1 / 2 ** k for k in range(30)]

    def label(self, rung):
        return f"{self.name}, 2^{rung.bit_length() - 1}" if self.random else f"{self.name}, rtol {rung:.1e}"


def climb(ladder, family, d, seeds, cap, beat):
    """Climbs `ladder` on one integrand. Stops when the RMS relative error is
    at most TARGET ("reached"), when a rung's median run is slower than
    `beat` (the tool's best method so far: "slower"), when a deterministic
    run ends short of its tolerance ("budget"), or before a rung that would
    take the ladder's total time past `cap` seconds ("cap"). Returns the last
    rung, its RMS relative error and the median wall time of one run there."""
    ex = exact(family, d)
    spent = 0.0
    for rung in ladder.rungs():
        runs = ladder.measure(family, d, rung, seeds)  # [(value, seconds, tolerance met)]
        times = sorted(sec for _, sec, _ in runs)
        spent += sum(times)
        rms = math.sqrt(sum(((v - ex) / ex) ** 2 for v, _, _ in runs) / len(runs))
        result = dict(tool=ladder.tool, method=ladder.name, family=family, rung=rung,
                      label=ladder.label(rung), rms=rms, seconds=times[len(times) // 2], spent=spent)
        print(f"#   {family} {result['label']}: RMS {rms:.1e}, {result['seconds']:.2e} s", file=sys.stderr,
              flush=True)
        if rms <= TARGET:
            return dict(result, outcome="reached")
        if not all(met for _, _, met in runs):
            return dict(result, outcome="budget")
        if result["seconds"] >= beat:
            return dict(result, outcome="slower")
        if spent + 2.5 * sum(times) > cap:
            return dict(result, outcome="cap")
    return dict(result, outcome="cap")


def ladders(qp, qp_vegas):
    """Every method of every tool, the likely fastest first in each tool."""
    def quadpipe(spec, random):
        def measure(family, d, rung, seeds):
            if random:
                lines = [f"{family} {d} {rung} {s} {spec}" for s in range(1, seeds + 1)]
            else:  # deterministic: three runs, for the median time
                lines = 3 * [f"{family} {d} {1 << 27} 1 cubature:{rung:e}"]
            return [(r["value"], r["seconds"], r["stop"] != "ToleranceNotMet") for r in qp.runs(lines)]
        return measure

    def python(run):
        def measure(family, d, n, seeds):
            runs = []
            for s in range(1, seeds + 1):
                (value, _), sec = timed(run, family, d, n, s)
                runs.append((value, sec, True))
            return runs
        return measure

    def scipy_cubature_runs(family, d, rel, seeds):
        # 2000 splits of a region into 2^d: about 10 s in d = 5.
        runs = []
        for _ in range(3):
            (value, met), sec = timed(scipy_cubature, family, d, rel, 2000)
            runs.append((value, sec, met))
            if sec > 1.0:
                break
        return runs

    return {
        "quadpipe": [Ladder("quadpipe", "cubature", False, quadpipe("cubature", False)),
                     Ladder("quadpipe", "RQMC", True, quadpipe("rqmc", True)),
                     Ladder("quadpipe", "VEGAS", True, quadpipe(qp_vegas, True)),
                     Ladder("quadpipe", "MC", True, quadpipe("mc", True))],
        "SciPy": [Ladder("SciPy", "qmc_quad", True, python(run_qmc_quad)),
                  Ladder("SciPy", "cubature", False, scipy_cubature_runs)],
        "vegas": [Ladder("vegas", "vegas", True, python(run_vegas))],
        "NumPy": [Ladder("NumPy", "MC", True, python(run_numpy_mc))],
    }


def seconds_text(sec):
    if sec < 1e-3:
        return f"{sec * 1e6:.0f} µs"
    return f"{sec * 1e3:.3g} ms" if sec < 1 else f"{sec:.3g} s"


def cell(best):
    """A tool's best result as a table cell."""
    if best["outcome"] == "reached":
        return f"{seconds_text(best['seconds'])} ({best['label']})"
    text = f"> {seconds_text(best['seconds'])} ({best['label']}: {best['rms']:.2e}"
    if best["method"] == "MC":  # its error falls as N^-1/2
        text += f"; ≈ {seconds_text(best['seconds'] * (best['rms'] / TARGET) ** 2)} at that rate"
    return text + ")"


def busy_loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


def free_cores(workers=2, n=3_000_000):
    """How many cores this process gets now: `workers` CPU-bound processes
    side by side against one alone (2.0 on an idle 2-core machine)."""
    import multiprocessing
    _, alone = timed(busy_loop, n)
    with multiprocessing.Pool(workers) as pool:
        _, together = timed(pool.map, busy_loop, workers * [n])
    return workers * alone / together


def time_to_accuracy(binary, families, d, seeds, cap, qp_vegas):
    """The wall time each tool's best method needs for an RMS relative error
    of TARGET on each family in d dimensions: markdown tables."""
    cores_before = free_cores()
    qp = QuadpipeBatch(binary)
    qp.runs(["gaussian 2 4096 1 mc"])  # start the default executor
    tools = ladders(qp, qp_vegas)
    started = time.time()
    rows = {}
    for f in families:
        for tool, methods in tools.items():
            results = []
            for ladder in methods:
                reached = [r["seconds"] for r in results if r["outcome"] == "reached"]
                results.append(climb(ladder, f, d, seeds, cap, min(reached, default=math.inf)))
            rows[(f, tool)] = results
        print(f"# {f} done, {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    qp.close()

    def best(results):
        reached = [r for r in results if r["outcome"] == "reached"]
        if reached:
            return min(reached, key=lambda r: r["seconds"])
        # Stopped by the cap, a method would need more than its last rung's
        # time: the tool's time is above the least of those. A cubature
        # that ran out of budget says nothing, unless every method did.
        capped = [r for r in results if r["outcome"] == "cap"]
        return min(capped, key=lambda r: r["seconds"]) if capped else max(results, key=lambda r: r["seconds"])

    peers = [t for t in tools if t != "quadpipe"]
    print(f"\n### Time to an RMS relative error of {TARGET:.0e}, d = {d}, {seeds} seeds\n")
    print("| family | quadpipe | " + " | ".join(peers) + " | best peer | quadpipe's speed-up |")
    print("|---|---|" + "---|" * len(peers) + "---|--:|")
    for f in families:
        ours = best(rows[(f, "quadpipe")])
        theirs = [best(rows[(f, t)]) for t in peers]
        fastest = min(theirs, key=lambda r: (r["outcome"] != "reached", r["seconds"]))
        speedup = fastest["seconds"] / ours["seconds"]
        sign = "> " if fastest["outcome"] != "reached" and ours["outcome"] == "reached" else ""
        sign = "? " if ours["outcome"] != "reached" else sign
        print(f"| {f} | {cell(ours)} | " + " | ".join(cell(r) for r in theirs)
              + f" | {fastest['tool']} {fastest['method']} | {sign}{speedup:.1f}× |")
    print(f"\n### Every method's ladder (outcome: reached {TARGET:.0e}; slower than the tool's best; "
          "cap: the next rung would pass the time cap; budget: cubature stopped short of its tolerance)\n")
    print("| family | tool | method | outcome | last rung | RMS rel. error | s per run | s spent |")
    print("|---|---|---|---|---|--:|--:|--:|")
    for f in families:
        for tool in tools:
            for r in rows[(f, tool)]:
                print(f"| {f} | {tool} | {r['method']} | {r['outcome']} | {r['label']} | {r['rms']:.1e} "
                      f"| {r['seconds']:.2e} | {r['spent']:.1f} |")
    print(f"\nquadpipe on the default executor ({os.cpu_count()} threads); the peers in this one Python "
          f"process. Time cap per method and family: {cap:.0f} s. Total {time.time() - started:.0f} s. "
          f"Cores free (two busy processes against one): {cores_before:.1f} before, {free_cores():.1f} after.")


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
    ap.add_argument("--time-to-accuracy", action="store_true",
                    help=f"wall time of each tool's best method to an RMS relative error of {TARGET:.0e}, "
                         "d = 5 (or --dims), 5 seeds (or --seeds), and exit")
    ap.add_argument("--cap", type=float, default=60.0,
                    help="--time-to-accuracy: seconds one method may spend on one family (60)")
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
    if a.time_to_accuracy:
        time_to_accuracy(a.binary, families, int(a.dims or 5), a.seeds or 5, a.cap, a.qp_vegas)
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
