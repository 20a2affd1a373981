"""Does averaging φ help topic-LLA (issue 14)?  On the validation split of the prefixes only.

    OMP_NUM_THREADS=1 python benchmarks/phi_averaging.py CORPUS --out DIR [--topics 100]

Trains :class:`lla.TopicLLA` with the library's defaults and ``n_average=0`` on the first 60 %
of every training prefix (``corpus.prefix_corpus()``), keeping the topic counts n_wk of every
SEM iteration and a checkpoint, and scores the rest of the prefixes (particle filter,
S = ``PARTICLES``) for φ made from:

* ``last``: the last SE-step's counts (``n_average=0``, the behaviour before the option);
* ``iterations-3`` / ``iterations-5``: the counts averaged over the last 3 / 5 SEM iterations
  (the LSTM changes between them; costs nothing);
* ``average-5`` / ``average-10``: the library's ``n_average``: the checkpoint resumed with
  ``n_average`` = 5 / 10, i.e. that many further SE-steps with the final LSTM, averaged;
* with ``--continue-to N``: the checkpoint resumed to N SEM iterations, scored with the last
  SE-step's counts and with ``n_average=10`` (does the default number of iterations matter?).

The held-out suffixes are never looked at.  Writes DIR/phi_averaging.json.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

import lla
from lla.evaluation import perplexity

PARTICLES = 8
SEED = 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--out", required=True)
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--continue-to", type=int, default=None, metavar="N")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    split = lla.Corpus.open(args.corpus).prefix_corpus()
    settings = dict(n_threads=1, random_state=SEED, show_progress=False,
                    checkpoint_dir=str(out / "checkpoint"))
    counts = []
    start = time.perf_counter()
    model = lla.TopicLLA(args.topics, n_average=0, **settings).fit(
        split, callback=lambda m, it, stats: counts.append(m.n_wk_.copy()))
    result = {"corpus": args.corpus, "topics": args.topics, "particles": PARTICLES,
              "params": model.get_params(), "fit_seconds": time.perf_counter() - start,
              "rows": []}

    def score(name, fitted, seconds=0.0):
        ppl = perplexity(fitted.heldout_log_prob(split, n_particles=PARTICLES))
        row = {"phi": name, "validation_perplexity": ppl, "extra_seconds": seconds,
               "nonzero": fitted.n_parameters()["nonzero"]}
        result["rows"].append(row)
        print(json.dumps(row), flush=True)
        (out / "phi_averaging.json").write_text(json.dumps(result, indent=2))

    score("last", model)
    for n in (3, 5):
        model._set_average(np.mean(counts[-n:], axis=0).astype(np.float32), n)
        score(f"iterations-{n}", model)
    for n in (5, 10):
        start = time.perf_counter()
        averaged = lla.TopicLLA(args.topics, n_average=n, **settings).fit(split, resume=True)
        score(f"average-{n}", averaged, time.perf_counter() - start)
    if args.continue_to:
        n_iter = args.continue_to
        start = time.perf_counter()
        longer = lla.TopicLLA(args.topics, n_iter=n_iter, n_average=0, **settings).fit(
            split, resume=True)
        score(f"{n_iter}-iterations-last", longer, time.perf_counter() - start)
        start = time.perf_counter()
        longer = lla.TopicLLA(args.topics, n_iter=n_iter, n_average=10, **settings).fit(
            split, resume=True)
        score(f"{n_iter}-iterations-average-10", longer, time.perf_counter() - start)


if __name__ == "__main__":
    main()
