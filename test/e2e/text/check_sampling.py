#!/usr/bin/python3
"""Checks tfm-run's sampling against the probabilities it should draw from:

  check_sampling.py --case cases/gpt2 --work DIR [--tfmc tfmc] [--tfm-run tfm-run]

A sequence that draws eos prints an empty line (counted as eos). The
prompt's next-token logits come from `tfm-run --logits` (a decoder's
logits over its prompt, last position). For each setting (temperature,
top-k, top-p), NumPy computes the distribution transformers' warpers give
(softmax of logits / T; tokens below the k-th largest out; in ascending
order, tokens whose cumulative probability is <= 1 - top_p out; renormalized)
and tfm-run draws one token for each of N copies of the prompt in one batch
(`--inputs`, each sequence its own random stream): a Pearson chi-squared test
of the counts against N * p (bins with expected counts under 5 merged) at
significance 1e-3 (critical value by the Wilson-Hilferty approximation), and
no token drawn that the filters removed. A wrong temperature, k or p fails it.
Then: the same --seed reproduces a 24-token text exactly, on 1 and 2 threads;
another seed changes it.
"""
import argparse
import json
import math
import os
import shlex
import subprocess
import sys

import numpy as np

N = 1500
PROMPT = [502, 71, 627]
SETTINGS = [  # temperature, top_k, top_p
    (1.0, 0, 1.0),
    (0.7, 0, 1.0),
    (1.3, 20, 1.0),
    (1.0, 0, 0.8),
    (0.8, 40, 0.9),
]


def expected(logits, t, k, p):
    s = logits.astype(np.float64) / t
    if k > 0 and k < len(s):
        kth = np.sort(s)[::-1][k - 1]
        s = np.where(s < kth, -np.inf, s)
    q = np.exp(s - s.max())
    q /= q.sum()
    if p < 1.0:
        order = np.argsort(s, kind="stable")
        cum = np.cumsum(q[order])
        remove = cum <= 1 - p
        remove[-1] = False
        q[order[remove]] = 0
        q /= q.sum()
    return q


def chi2_critical(df, alpha=1e-3):
    # Wilson-Hilferty: chi2_df quantile ~ df (1 - 2/(9df) + z sqrt(2/(9df)))^3.
    z = 3.090232306167813  # the standard normal's 1 - 1e-3 quantile
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--tfmc", default="tfmc")
    ap.add_argument("--tfm-run", default="tfm-run")
    a = ap.parse_args()
    tfmc, tfm_run = shlex.split(a.tfmc), shlex.split(a.tfm_run)
    art = os.path.join(a.work, "art")

    def run(args, env=None):
        r = subprocess.run(args, capture_output=True, env=env)
        if r.returncode != 0:
            sys.exit(f"FAIL: {shlex.join(args)}: exit {r.returncode}: {r.stderr.decode(errors='replace')}")
        return r.stdout.decode()

    run(tfmc + [os.path.join(a.case, "model"), "-o", art])
    eos = json.load(open(os.path.join(a.case, "model", "config.json")))["eos_token_id"]
    one = os.path.join(a.work, "one.json")
    json.dump({"src": [PROMPT]}, open(one, "w"))
    run(tfm_run + [art, "--inputs", one, "--logits", os.path.join(a.work, "logits.npy")])
    logits = np.load(os.path.join(a.work, "logits.npy"))[0, len(PROMPT) - 1]
    batch = os.path.join(a.work, "batch.json")
    json.dump({"src": [PROMPT] * N}, open(batch, "w"))
    ok = True
    for i, (t, k, p) in enumerate(SETTINGS):
        out = run(tfm_run + [art, "--inputs", batch, "--max-new-tokens", "1", "--seed", str(100 + i),
                             "--temperature", str(t), "--top-k", str(k), "--top-p", str(p)])
        # A sequence that draws eos ends there: an empty line.
        lines = out.split("\n")
        assert lines[-1] == "", "no final newline"
        tokens = [int(line) if line else eos for line in lines[:-1]]
        assert len(tokens) == N, len(tokens)
        counts = np.bincount(tokens, minlength=len(logits))
        q = expected(logits, t, k, p)
        outside = int(counts[q == 0].sum())
        e = N * q
        big = e >= 5
        obs = list(counts[big]) + [counts[~big].sum()]
        exp = list(e[big]) + [e[~big].sum()]
        if exp[-1] < 5:  # merge the small rest into the smallest big bin
            j = int(np.argmin(exp[:-1]))
            obs[j] += obs[-1]
            exp[j] += exp[-1]
            obs, exp = obs[:-1], exp[:-1]
        obs, exp = np.array(obs, float), np.array(exp, float)
        stat = float(((obs - exp) ** 2 / exp).sum())
        df = len(exp) - 1
        crit = chi2_critical(df)
        good = outside == 0 and df >= 1 and stat < crit
        ok &= good
        print(f"T={t} top_k={k} top_p={p}: {int((q > 0).sum())} tokens possible, {N} draws, "
              f"{outside} outside; chi2 {stat:.1f} on {df} df, critical {crit:.1f}: "
              + ("ok" if good else "FAIL"))

    text = ["--text", "Hello world", "--max-new-tokens", "24", "--temperature", "1.2"]
    env1 = dict(os.environ, OMP_NUM_THREADS="1")
    env2 = dict(os.environ, OMP_NUM_THREADS="2")
    s1 = run(tfm_run + [art, "--seed", "5"] + text, env1)
    s2 = run(tfm_run + [art, "--seed", "5"] + text, env2)
    s3 = run(tfm_run + [art, "--seed", "5"] + text, env1)
    s4 = run(tfm_run + [art, "--seed", "6"] + text, env1)
    same = s1 == s2 == s3
    print("seed 5, 1 and 2 threads, twice:", "same text" if same else "DIFFERENT")
    print("seed 6:", "another text" if s4 != s1 else "SAME TEXT")
    ok &= same and s4 != s1
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
