"""Topic-LLA's SE-step samplers against each other at one fixed budget (issue 14): held-out
perplexity after the same number of SEM iterations from the same start, for the forward step
(the paper's), the MH step, the particle smoother and the beam search, over several seeds.

Every run is ``TopicLLA(K, n_iter=N, se_sampler=..., random_state=seed)`` with the same other
hyper-parameters, so for one seed all samplers start from the same iteration 0 (the same LDA
sweeps and LSTM fit: the independent learner, scored once per seed); only the SE-steps (and
hence the M-steps that follow them) differ.  Scores: particle filter with ``--particles``.

    python benchmarks/se_samplers.py --corpus movielens --topics 50 --iterations 6 \\
        --seeds 0,1 --json se_samplers.json

``--samplers`` takes names with an optional size: ``smoother:16`` (S), ``mh:2`` (mh_steps),
``beam:4`` (B).
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

import lla


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--topics", type=int, default=50)
    ap.add_argument("--iterations", type=int, default=6)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--samplers", default="forward,mh,smoother,beam",
                    help="comma-separated; a size after a colon: smoother:16, mh:2, beam:4")
    ap.add_argument("--lda-iterations", type=int, default=200)
    ap.add_argument("--init-lstm-epochs", type=int, default=10)
    ap.add_argument("--lstm-epochs", type=int, default=2)
    ap.add_argument("--se-particles", type=int, default=16)
    ap.add_argument("--mh-steps", type=int, default=2)
    ap.add_argument("--mh-head", type=int, default=64)
    ap.add_argument("--beam-width", type=int, default=4)
    ap.add_argument("--particles", type=int, default=16, help="S of the scoring filter")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-start", action="store_true",
                    help="do not score iteration 0 (the independent learner)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)

    corpus = lla.Corpus.open(args.corpus)
    seeds = [int(s) for s in args.seeds.split(",")]
    samplers = args.samplers.split(",")
    common = dict(init_lda_iter=args.lda_iterations, init_lstm_epochs=args.init_lstm_epochs,
                  lstm_epochs_per_iter=args.lstm_epochs, se_particles=args.se_particles,
                  mh_steps=args.mh_steps, mh_head=args.mh_head, beam_width=args.beam_width,
                  n_threads=args.threads, show_progress=False)
    runs = []
    for seed in seeds:
        if not args.no_start:
            start = lla.TopicLLA(args.topics, n_iter=0, random_state=seed, **common).fit(corpus)
            runs.append({"seed": seed, "sampler": "independent (iteration 0)", "iterations": 0,
                         "perplexity": start.perplexity(corpus, n_particles=args.particles)})
            print(runs[-1], flush=True)
        for sampler in samplers:
            name, _, value = sampler.partition(":")
            options = dict(common)
            if value:   # "smoother:S", "mh:M", "beam:B": the sampler's size
                options[{"smoother": "se_particles", "mh": "mh_steps",
                         "beam": "beam_width"}[name]] = int(value)
            t0 = time.perf_counter()
            m = lla.TopicLLA(args.topics, n_iter=args.iterations, se_sampler=name,
                             random_state=seed, **options).fit(corpus)
            fit_seconds = time.perf_counter() - t0
            se_seconds = [h["se_seconds"] for h in m.history_ if "se_seconds" in h]
            runs.append({"seed": seed, "sampler": sampler, "iterations": m.n_iter_done_,
                         "perplexity": m.perplexity(corpus, n_particles=args.particles),
                         "fit_seconds": fit_seconds, "se_seconds_mean": float(np.mean(se_seconds)),
                         "changed_last": m.iteration_history()[-1].get("changed")})
            print(runs[-1], flush=True)
    print(f"\n{corpus.path.name}, K={args.topics}, {args.iterations} SEM iterations, "
          f"{args.lstm_epochs} LSTM epochs each, scored with S={args.particles}")
    print("| SE-step | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | SE-step s |")
    print("|---|" + "---:|" * (len(seeds) + 2))
    for name in ([] if args.no_start else ["independent (iteration 0)"]) + samplers:
        rs = [r for r in runs if r["sampler"] == name]
        ppl = [r["perplexity"] for r in rs]
        se = np.mean([r.get("se_seconds_mean", np.nan) for r in rs])
        print(f"| {name} | " + " | ".join(f"{p:.1f}" for p in ppl) +
              f" | {np.mean(ppl):.1f} | {'' if np.isnan(se) else f'{se:.1f}'} |")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "corpus": str(args.corpus), "topics": args.topics, "settings": vars(args),
            "machine": platform.processor() or platform.machine(),
            "date": time.strftime("%Y-%m-%d %H:%M"), "runs": runs}, indent=2) + "\n")
    return runs


if __name__ == "__main__":
    main()
