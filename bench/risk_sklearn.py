#!/usr/bin/env python3
"""Training-time baseline for the risk model: scikit-learn's HistGradientBoostingClassifier.

Usage: risk_sklearn.py build JIT_DIR OUT_CSV [ROWS]          -- concatenate the JIT files into one CSV
       risk_sklearn.py build-by-date JIT_DIR OUT_CSV [ROWS]  -- the same, rows sorted by commit date
       risk_sklearn.py time CSV                              -- train HGB on it, print JSON timings
       risk_sklearn.py split CSV [TRAIN_FRACTION]            -- train HGB on the oldest rows, test on the rest

`build` writes the canonical header (nd, age, nuc, entropy, commitdate) and keeps only rows with a
date, exactly the rows changegate-risk's loader keeps. `time` computes the same 18 features as
crates/risk/src/model.rs (the 14 metrics plus la_lines, ld_lines, lt_lines, nuc_total) and trains
HGB with the same tree budget as TrainConfig::default() (200 trees, learning rate 0.05, depth 3,
127 bins, no early stopping), and once with its defaults (100 trees of up to 31 leaves).
Each is timed three times; the fastest run is printed.

`build-by-date` (bench/risk_training.sh) reads every row with a date from all the files, sorts them
by commit date (stable: equal dates keep file-name and row order, as changegate-risk's loader does)
and keeps the oldest ROWS. `split` then does what `changegate risk benchmark` does on that file:
train on the oldest TRAIN_FRACTION of the rows (0.8 by default), test on the rest, and prints the
fit times, the test ROC AUC and Brier score and the scoring times of both HGB configurations.
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


def parse_date(text):
    """Unix seconds of a JIT date cell (as changegate-risk's loader reads it), or None."""
    import calendar
    from datetime import datetime

    text = text.strip().strip('"')
    if text in ("", "NA", "NaN", "nan", "null"):
        return None
    try:
        return int(float(text))
    except ValueError:
        pass
    for layout in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return calendar.timegm(datetime.strptime(text, layout).timetuple())
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


def build_by_date(jit_dir, out, limit):
    rows = []
    for path in sorted(glob.glob(os.path.join(jit_dir, "*.csv"))):
        with open(path, newline="") as g:
            for row in csv.DictReader(g):
                row = {ALIASES.get(k.strip().lower(), k.strip().lower()): v for k, v in row.items()}
                when = parse_date(row["commitdate"])
                if when is None:
                    continue
                rows.append((when, [row["commitdate"]] + [row[m] for m in METRICS] + [row["bug"]]))
    rows.sort(key=lambda item: item[0])  # stable
    rows = rows[:limit]
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["commitdate"] + METRICS + ["bug"])
        for _, cells in rows:
            w.writerow(cells)
    print(json.dumps({"rows": len(rows), "csv": out, "first_date": rows[0][1][0], "last_date": rows[-1][1][0]}))


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


def import_hgb():
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        import subprocess

        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "scikit-learn"])
        from sklearn.ensemble import HistGradientBoostingClassifier
    return HistGradientBoostingClassifier


HGB_CONFIGS = {
    "same_budget": dict(max_iter=200, learning_rate=0.05, max_depth=3, max_leaf_nodes=None, max_bins=127,
                        early_stopping=False, random_state=0),
    "defaults": dict(random_state=0),
}


def split_hgb(path, train_fraction):
    HistGradientBoostingClassifier = import_hgb()
    import numpy as np
    import sklearn
    from sklearn.metrics import brier_score_loss, roc_auc_score

    x, y = features(path)
    n_train = int(round(len(y) * train_fraction))
    x_train, y_train, x_test, y_test = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    out = {"sklearn": sklearn.__version__, "train_rows": n_train, "test_rows": len(y_test),
           "threads": os.cpu_count()}
    for name, params in HGB_CONFIGS.items():
        best = None
        for _ in range(3):
            clf = HistGradientBoostingClassifier(**params)
            t = time.perf_counter()
            clf.fit(x_train, y_train)
            s = time.perf_counter() - t
            best = s if best is None else min(best, s)
        p = clf.predict_proba(x_test)[:, 1]
        out[f"train_seconds_{name}"] = round(best, 3)
        out[f"trees_{name}"] = int(clf.n_iter_)
        out[f"test_auc_{name}"] = round(float(roc_auc_score(y_test, p)), 4)
        out[f"test_brier_{name}"] = round(float(brier_score_loss(y_test, p)), 4)
        t = time.perf_counter()
        clf.predict_proba(x_test)
        out[f"score_micros_per_row_batch_{name}"] = round((time.perf_counter() - t) * 1e6 / len(y_test), 2)
        calls = min(2000, len(y_test))
        t = time.perf_counter()
        for i in range(calls):
            clf.predict_proba(x_test[i : i + 1])
        out[f"score_micros_per_row_single_calls_{name}"] = round((time.perf_counter() - t) * 1e6 / calls, 1)
    print(json.dumps(out))


def time_hgb(path):
    HistGradientBoostingClassifier = import_hgb()
    import sklearn
    from sklearn.metrics import roc_auc_score

    x, y = features(path)
    out = {"rows": len(y), "sklearn": sklearn.__version__}
    for name, params in HGB_CONFIGS.items():
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
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 100_000)
    elif sys.argv[1] == "build-by-date":
        build_by_date(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 100_000)
    elif sys.argv[1] == "time":
        time_hgb(sys.argv[2])
    elif sys.argv[1] == "split":
        split_hgb(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.8)
    else:
        sys.exit(__doc__)
