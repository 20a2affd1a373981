"""Prediction throughput (issue: "a batch of 10,000 histories of length 50 on movielens K=50 in
seconds, not minutes"): time ``model.predict_next`` on histories cut from a corpus.

    python benchmarks/predict_speed.py CORPUS MODEL_DIR [MODEL_DIR ...] [--histories 10000]
        [--length 50] [--threads 1]

Histories are windows of ``--length`` consecutive events of the documents long enough for one
(a fixed-seed choice of document and start), so that they look like real user histories.  Prints
histories/s and seconds per model (one run, after one warm-up batch of 100).
"""

import argparse
import json
import time

import numpy as np
import torch

import lla


def histories(corpus, n, length, seed=0):
    rng = np.random.default_rng(seed)
    long = [d for d in range(len(corpus)) if corpus.doc_lengths[d] >= length]
    docs = rng.choice(long, size=n)
    out = []
    for d in docs:
        start = rng.integers(0, corpus.doc_lengths[d] - length + 1)
        out.append(np.asarray(corpus[int(d)][start:start + length]).astype(int).tolist())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--histories", type=int, default=10000)
    ap.add_argument("--length", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    corpus = lla.Corpus.open(args.corpus)
    batch = histories(corpus, args.histories, args.length)
    rows = []
    for path in args.models:
        model = lla.load_model(path)
        model.predict_next(batch[:100])                       # warm-up (numba, caches)
        start = time.perf_counter()
        preds = model.predict_next(batch, n_items=10, n_topics=3)
        seconds = time.perf_counter() - start
        assert len(preds) == len(batch)
        rows.append({"model": model.model_name, "path": path, "histories": len(batch),
                     "length": args.length, "seconds": seconds,
                     "histories_per_s": len(batch) / seconds})
        print(f"{model.model_name:<12} {len(batch):,} histories of {args.length}: "
              f"{seconds:7.2f} s  ({len(batch) / seconds:,.0f} histories/s)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
