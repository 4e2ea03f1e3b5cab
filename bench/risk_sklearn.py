#!/usr/bin/env python3
"""Training-time baseline for the risk model: scikit-learn's HistGradientBoostingClassifier.

Usage: risk_sklearn.py build JIT_DIR OUT_CSV [ROWS]   -- concatenate the JIT files into one CSV
       risk_sklearn.py time CSV                       -- train HGB on it, print JSON timings

`build` writes the canonical header (nd, age, nuc, entropy, commitdate) and keeps only rows with a
date, exactly the rows changegate-risk's loader keeps. `time` computes the same 18 features as
crates/risk/src/model.rs (the 14 metrics plus la_lines, ld_lines, lt_lines, nuc_total) and trains
HGB with the same tree budget as TrainConfig::default() (200 trees, learning rate 0.05, depth 3,
127 bins, no early stopping), and once with its defaults (100 trees of up to 31 leaves).
Each is timed three times; the fastest run is printed.
"""
import csv
import glob
import json
import os
import sys
import time

METRICS = ["ns", "nd", "nf", "entropy", "la", "ld", "lt", "fix", "ndev", "age", "nuc", "exp", "rexp", "sexp"]
ALIASES = {"nm": "nd", "pd": "age", "npt": "nuc", "entrophy": "entropy"}


def build(jit_dir, out, limit):
    n = 0
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["commitdate"] + METRICS + ["bug"])
        for path in sorted(glob.glob(os.path.join(jit_dir, "*.csv"))):
            with open(path, newline="") as g:
                for row in csv.DictReader(g):
                    row = {ALIASES.get(k.strip().lower(), k.strip().lower()): v for k, v in row.items()}
                    if row["commitdate"] in ("", "NA"):
                        continue
                    w.writerow([row["commitdate"]] + [row[m] for m in METRICS] + [row["bug"]])
                    n += 1
                    if n >= limit:
                        print(json.dumps({"rows": n, "csv": out}))
                        return
    print(json.dumps({"rows": n, "csv": out}))


def features(path):
    import numpy as np

    rows, y = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            m = [float("nan") if row[k] in ("", "NA") else float(row[k]) for k in METRICS]
            nf = max(m[2], 1.0)
            lt_lines = m[6] * nf
            rows.append(m + [m[4] * lt_lines, m[5] * lt_lines, lt_lines, m[10] * nf])
            y.append(int(float(row["bug"])))
    return np.array(rows), np.array(y)


def time_hgb(path):
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        import subprocess

        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "scikit-learn"])
        from sklearn.ensemble import HistGradientBoostingClassifier
    import sklearn
    from sklearn.metrics import roc_auc_score

    x, y = features(path)
    out = {"rows": len(y), "sklearn": sklearn.__version__}
    configs = {
        "same_budget": dict(max_iter=200, learning_rate=0.05, max_depth=3, max_leaf_nodes=None, max_bins=127,
                            early_stopping=False, random_state=0),
        "defaults": dict(random_state=0),
    }
    for name, params in configs.items():
        best = None
        for _ in range(3):
            clf = HistGradientBoostingClassifier(**params)
            t = time.perf_counter()
            clf.fit(x, y)
            s = time.perf_counter() - t
            best = s if best is None else min(best, s)
        out[f"train_seconds_{name}"] = round(best, 3)
        out[f"trees_{name}"] = int(clf.n_iter_)
        out[f"auc_in_sample_{name}"] = round(float(roc_auc_score(y, clf.predict_proba(x)[:, 1])), 4)
    t = time.perf_counter()
    for i in range(2000):
        clf.predict_proba(x[i : i + 1])
    out["score_micros_per_row_single_calls"] = round((time.perf_counter() - t) * 1e6 / 2000, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 100_000)
    elif sys.argv[1] == "time":
        time_hgb(sys.argv[2])
    else:
        sys.exit(__doc__)
