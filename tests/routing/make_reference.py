"""Reference values for tests/routing/test_stats.cpp, from scipy (independent of breadth).

Writes <outdir>/stats.json: paired samples with scipy's paired t-test, its exact sign-flip
permutation p-value (all 2^n sign patterns), and regularized incomplete beta values.
"""
import itertools
import json
import os
import sys

import numpy as np
from scipy import special, stats

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
cases = []
for n, shift in [(12, 0.3), (10, 0.0), (14, 1.0), (200, 0.1)]:
    x = rng.normal(size=n)
    y = x - shift - rng.normal(scale=0.8, size=n)
    t = stats.ttest_rel(x, y)
    d = x - y
    case = {"x": x.tolist(), "y": y.tolist(), "t": float(t.statistic), "t_p": float(t.pvalue)}
    if n <= 14:
        # exact two-sided sign-flip p (counting the observed pattern): the permutation test's target
        obs = abs(d.sum())
        signs = np.array(list(itertools.product([1.0, -1.0], repeat=n)))
        sums = np.abs(signs @ d)
        case["perm_p_exact"] = float(np.mean(sums >= obs - 1e-12 * (1 + obs)))
    cases.append(case)
betas = []
for a, b, x in [(0.5, 0.5, 0.3), (5.5, 0.5, 0.91), (2.0, 3.0, 0.5), (50.0, 0.5, 0.999), (1.0, 1.0, 0.25),
                (99.5, 0.5, 0.97)]:
    betas.append({"a": a, "b": b, "x": x, "value": float(special.betainc(a, b, x))})
with open(os.path.join(out, "stats.json"), "w") as f:
    json.dump({"paired": cases, "betainc": betas}, f)
