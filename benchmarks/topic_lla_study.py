"""What limits topic-LLA's quality at K = 100 (issue 14): one factor at a time against a
reference configuration, every run with the same budget fixed here, scored on the validation
split of the training prefixes only (the held-out suffixes are never looked at).

    OMP_NUM_THREADS=1 python benchmarks/topic_lla_study.py CORPUS --config NAME --out DIR
    python benchmarks/topic_lla_study.py CORPUS --table --out DIR     # the markdown table

Every configuration trains :class:`lla.TopicLLA` with ``early_stopping=True`` on the first 60 %
of every training prefix (``corpus.prefix_corpus()``) and scores the rest of the prefixes with
the particle filter (S = ``VALIDATION_PARTICLES``) after the LDA start (iteration 0) and every
``VALIDATION_EVERY`` SEM iterations; the patience is larger than the budget, so every run
goes to its last iteration and the table shows the whole curve.  CPU seconds of the process
(training and validation) are recorded beside the wall time, since the 2-core machine is
shared by two such runs.

The reference (``base``) is docs/compare.md's wiki budget: LDA start 200 sweeps, 3 LSTM epochs
on its z, then SEM iterations of one LSTM epoch, batch 128 documents, E = H = 128, BPTT 64,
AdamW lr 1e-3, weight decay 1e-4, dropout 0.2; ``ITERATIONS`` SEM iterations.  Each other
configuration changes one factor (see ``CONFIGS``).
"""

import argparse
import json
import time
from pathlib import Path

import lla

ITERATIONS = 8
VALIDATION_EVERY = 2
VALIDATION_PARTICLES = 8
SEED = 0

#: n_average=0: the study measures the SEM chain's own φ (its last SE-step's), as it did before
#: φ averaging existed; benchmarks/phi_averaging.py measures the averaging
BASE = dict(n_topics=100, embedding_size=128, hidden_size=128, init_lda_iter=200,
            init_lstm_epochs=3, lstm_epochs_per_iter=1, batch_size=128, bptt=64,
            learning_rate=1e-3, weight_decay=1e-4, dropout=0.2, n_average=0)

#: the library's own defaults of every parameter BASE sets, and its n_iter (read from TopicLLA)
DEFAULTS = {name: value for name, value in lla.TopicLLA(BASE["n_topics"]).get_params().items()
            if name in BASE or name == "n_iter"}

#: name → (what it tests, the parameters it changes; ``n_iter`` overrides ITERATIONS)
CONFIGS = {
    "base": ("reference (docs/compare.md's wiki budget)", {}),
    "H256": ("LSTM capacity: H = 256", {"hidden_size": 256}),
    "H64": ("LSTM capacity: H = 64", {"hidden_size": 64}),
    "bptt256": ("memory: gradients through 256 steps", {"bptt": 256}),
    "bptt32": ("updates: BPTT 32 (twice the optimizer steps per epoch)", {"bptt": 32}),
    "lr3e-3": ("learning rate 3e-3", {"learning_rate": 3e-3}),
    "dropout0": ("regularisation: no dropout", {"dropout": 0.0}),
    "dropout0.5": ("regularisation: dropout 0.5", {"dropout": 0.5}),
    "lda50": ("LDA start: 50 sweeps", {"init_lda_iter": 50}),
    "lda500": ("LDA start: 500 sweeps", {"init_lda_iter": 500}),
    "epochs2": ("M-step: 2 LSTM epochs per iteration", {"lstm_epochs_per_iter": 2}),
    "batch32": ("M-step: 32 documents per batch (the library default)", {"batch_size": 32}),
    # the library's own defaults (10 LSTM epochs on LDA's z, 10 iterations × 2 epochs, batch 32)
    "defaults": ("the library's defaults", {**DEFAULTS}),
    "defaults-lr3e-3": ("the library's defaults with learning rate 3e-3",
                        {**DEFAULTS, "learning_rate": 3e-3}),
}


def run(corpus_dir, name, out):
    what, changes = CONFIGS[name]
    params = {**BASE, **changes}
    iterations = params.pop("n_iter", ITERATIONS)
    model = lla.TopicLLA(**params, n_iter=iterations, early_stopping=True,
                         patience=iterations + 1, validation_every=VALIDATION_EVERY,
                         validation_particles=VALIDATION_PARTICLES, n_threads=1,
                         random_state=SEED, show_progress=False)
    wall, cpu = time.perf_counter(), time.process_time()

    def report(model, iteration, stats):
        if "validation_perplexity" in stats:
            print(f"{name} iteration {iteration}: {stats['validation_perplexity']:.1f} "
                  f"({time.perf_counter() - wall:.0f} s)", flush=True)

    model.fit(lla.Corpus.open(corpus_dir), callback=report)
    result = {"config": name, "tests": what, "params": params, "iterations": iterations,
              "validation_particles": VALIDATION_PARTICLES,
              "wall_seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
              "curve": [(h["iteration"], h["validation_perplexity"])
                        for h in model.iteration_history() if "validation_perplexity" in h],
              # the defaults average φ after the last iteration (n_average): that model's score
              "averaged": next((h["validation_perplexity"] for h in model.history_
                                if "averaged" in h and "validation_perplexity" in h), None),
              "training_curve": model.convergence(),
              "changed": [h.get("changed") for h in model.history_]}
    (out / f"{name}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: result[k] for k in ("config", "curve", "cpu_seconds")}), flush=True)


def table(out):
    rows = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    rows.sort(key=lambda r: list(CONFIGS).index(r["config"]) if r["config"] in CONFIGS else 99)
    its = sorted({i for r in rows for i, _ in r["curve"]})
    print("| config | tests | " + " | ".join(f"it {i}" for i in its) + " | best | CPU s |")
    print("|---|---|" + "---:|" * (len(its) + 2))
    for r in rows:
        curve = dict(r["curve"])
        cells = [f"{curve[i]:.1f}" if i in curve else "" for i in its]
        averaged = f" (φ averaged: {r['averaged']:.1f})" if r.get("averaged") else ""
        print(f"| {r['config']} | {r['tests']} | " + " | ".join(cells)
              + f" | **{min(curve.values()):.1f}**{averaged} | {r['cpu_seconds']:.0f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", choices=list(CONFIGS))
    ap.add_argument("--table", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.table:
        table(out)
    elif args.config:
        run(args.corpus, args.config, out)
    else:
        ap.error("give --config NAME or --table")


if __name__ == "__main__":
    main()
