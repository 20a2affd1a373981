"""How much of a document does topic-LLA's LSTM remember (issue 14)?  A diagnostic on a trained
model's own topic assignments z.

    OMP_NUM_THREADS=1 python benchmarks/topic_memory.py MODEL_DIR [--alpha 0.1] [--json F]

The LSTM of topic-LLA predicts z_t from z_<t alone: θ_t = softmax(W_p s_t).  LDA instead gives
every document one θ_d estimated from all of its tokens.  On the model's training z (the last
SE-step's sample, documents in order) the script compares the cross-entropy −log p(z_t | ·)
(nats per token) of four predictors of the next topic, by position t in the document:

* ``marginal`` — the corpus' topic shares n_k / N (no memory at all);
* ``lstm`` — the model's θ_t, teacher-forced on z_<t over the whole document (no truncation,
  dropout off): what the SE-step and the particle filter see;
* ``cache`` — the Pólya urn of the document's own earlier topics,
  (α + n_{d,k}^{<t}) / (t − 1 + Kα): LDA's predictive for z_t with θ_d integrated out, causal
  like the LSTM (remembers every earlier topic of the document exactly, but knows no order);
* ``theta_d`` — leave-one-out (α + n_{d,k} − [k = z_t]) / (N_d − 1 + Kα): collapsed Gibbs'
  document term, which also sees the topics *after* t (not causal; a bound on what knowing the
  whole document gives).

If ``lstm`` is above ``cache`` at long positions, the LSTM forgets topics a simple count keeps,
and the model is limited by the LSTM's memory, not by φ.  ``--alpha`` is the cache's and
θ_d's α (LDA's default 0.1; the best α of a small grid is also reported, fitted on the same z —
a diagnostic, not a model).
"""

import argparse
import json

import numpy as np
import torch

import lla
from lla.nn.dynamics import START

BUCKETS = [(1, 10), (10, 100), (100, 500), (500, 1000), (1000, 2000), (2000, 10 ** 9)]


def lstm_nll(dynamics, z, lengths):
    """−log θ_{t, z_t} (N,) of every token, whole documents teacher-forced, no dropout."""
    out = np.empty(len(z), dtype=np.float64)
    dynamics.eval()
    start = 0
    with torch.no_grad():
        for n in lengths:
            doc = torch.as_tensor(z[start:start + n], dtype=torch.int64, device=dynamics.device)
            symbols = torch.cat([torch.full((1,), START, dtype=torch.int64,
                                            device=dynamics.device), doc[:-1]])[None, :]
            log_theta, _ = dynamics(symbols)
            out[start:start + n] = -log_theta[0].gather(1, doc[:, None])[:, 0].double().cpu().numpy()
            start += n
    return out


def count_nll(z, lengths, K, alpha):
    """(cache, theta_d) −log p (N,) each: the causal Pólya urn and the leave-one-out θ_d."""
    cache = np.empty(len(z), dtype=np.float64)
    loo = np.empty(len(z), dtype=np.float64)
    start = 0
    for n in lengths:
        doc = z[start:start + n]
        onehot = np.zeros((n, K), dtype=np.float64)
        onehot[np.arange(n), doc] = 1.0
        before = np.cumsum(onehot, axis=0) - onehot            # n_{d,k}^{<t}
        t = np.arange(n, dtype=np.float64)                     # t − 1 earlier tokens
        cache[start:start + n] = -np.log((alpha + before[np.arange(n), doc]) / (t + K * alpha))
        total = onehot.sum(axis=0)
        loo[start:start + n] = -np.log((alpha + total[doc] - 1.0) / (n - 1 + K * alpha))
        start += n
    return cache, loo


def by_position(values, lengths):
    """Mean of ``values`` (N,) over the tokens of every position bucket."""
    pos = np.concatenate([np.arange(1, n + 1) for n in lengths])
    rows = {}
    for lo, hi in BUCKETS:
        mask = (pos >= lo) & (pos < hi)
        if mask.any():
            label = f"{lo}-{hi - 1}" if hi < 10 ** 9 else f"{lo}+"
            rows[label] = (float(values[mask].mean()), int(mask.sum()))
    rows["all"] = (float(values.mean()), len(values))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = lla.load_model(args.model)
    z = np.asarray(model.z_, dtype=np.int64)
    if getattr(model, "corpus_path_", None) is None:
        raise SystemExit(f"{args.model}: the model does not record its training corpus")
    lengths = np.asarray(lla.Corpus.open(model.corpus_path_).prefix_lengths, dtype=np.int64)
    assert lengths.sum() == len(z), (lengths.sum(), len(z))
    K = int(model.n_topics)
    marginal = np.bincount(z, minlength=K) / len(z)
    results = {"marginal": -np.log(marginal[z])}
    results["lstm"] = lstm_nll(model.dynamics_, z, lengths)
    results["cache"], results["theta_d"] = count_nll(z, lengths, K, args.alpha)
    caches = {a: count_nll(z, lengths, K, a)[0] for a in (0.01, 0.03, 0.1, 0.3, 1.0)}
    grid = {a: float(c.mean()) for a, c in caches.items()}
    best = min(grid, key=grid.get)
    results[f"cache (best α = {best})"] = caches[best]
    table = {name: by_position(values, lengths) for name, values in results.items()}
    labels = list(table["lstm"])
    print("nats per token (−log p(z_t | ·)); tokens per bucket in the last row")
    print("| predictor | " + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for name, rows in table.items():
        print(f"| {name} | " + " | ".join(f"{rows[b][0]:.3f}" for b in labels) + " |")
    print("| tokens | " + " | ".join(f"{table['lstm'][b][1]:,}" for b in labels) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "alpha": args.alpha, "alpha_grid": grid,
                       "table": table}, f, indent=2)



if __name__ == "__main__":
    main()
