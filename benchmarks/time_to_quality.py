"""Time to quality (the paper's Fig. 8; issue 16): validation perplexity against training time for
LDA and topic-LLA on the same split, and the time topic-LLA needs to pass LDA's final value.

    OMP_NUM_THREADS=1 python benchmarks/time_to_quality.py CORPUS --topics 100 --out DIR
        [--lda-iterations 200] [--init-lda-iterations 200] [--init-lstm-epochs 3]
        [--iterations 12] [--lstm-epochs 1] [--batch-size 128] [--bptt T] [--learning-rate LR]
        [--average N] [--online-blocks B] [--validation-particles 4] [--threads T]

Both models train on the first 60 % of every training prefix (``corpus.prefix_corpus()``) and
are scored on the rest of the prefixes — the held-out suffixes are never looked at.  LDA records
its validation perplexity (document completion with the current θ_d, φ) every 10 sweeps;
topic-LLA (``early_stopping`` with a patience larger than the budget, so it runs every
iteration) after its LDA start, after every SEM iteration and after averaging φ over
``--average`` SE-steps (particle filter with ``--validation-particles``).  Times are training
seconds (LDA sweeps; LDA start + LSTM epochs + SE-steps, the averaging's included), validation
excluded.  Writes DIR/time_to_quality.json and .png.
"""

import argparse
import json
from pathlib import Path

import lla
from lla.report.compare_plots import plot_convergence


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--out", required=True)
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--lda-iterations", type=int, default=200)
    ap.add_argument("--init-lda-iterations", type=int, default=200)
    ap.add_argument("--init-lstm-epochs", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=12)
    ap.add_argument("--lstm-epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--bptt", type=int, default=None, help="default: TopicLLA's")
    ap.add_argument("--learning-rate", type=float, default=None, help="default: TopicLLA's")
    ap.add_argument("--average", type=int, default=None,
                    help="n_average: SE-steps averaged into φ after training (default: "
                         "TopicLLA's); the averaged model is the curve's last point")
    ap.add_argument("--online-blocks", type=int, default=1,
                    help="online_blocks: SEM iterations per pass over the documents, each on "
                         "one random block of them (1: every iteration visits every document)")
    ap.add_argument("--validation-particles", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="n_threads of both models (default: all cores for numba and torch)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    split = lla.Corpus.open(args.corpus).prefix_corpus()

    lda = lla.LDA(args.topics, n_iter=args.lda_iterations, random_state=args.seed,
                  n_threads=args.threads, show_progress=False).fit(split, validation=split)
    lda_curve = lda.convergence()
    print(f"LDA: {lda_curve[-1][0]:.0f} s, final validation perplexity {lda_curve[-1][1]:.1f}",
          flush=True)

    def report(model, iteration, stats):
        print(f"topic-LLA iteration {iteration}: {stats.get('validation_perplexity', float('nan')):.1f}"
              f" after {model.convergence()[-1][0]:.0f} s", flush=True)

    tlla = lla.TopicLLA(args.topics, n_iter=args.iterations, init_lda_iter=args.init_lda_iterations,
                        init_lstm_epochs=args.init_lstm_epochs,
                        lstm_epochs_per_iter=args.lstm_epochs, batch_size=args.batch_size,
                        **({} if args.bptt is None else {"bptt": args.bptt}),
                        **({} if args.learning_rate is None
                           else {"learning_rate": args.learning_rate}),
                        **({} if args.average is None else {"n_average": args.average}),
                        online_blocks=args.online_blocks,
                        early_stopping=True, patience=args.iterations + 1,
                        validation_particles=args.validation_particles,
                        n_threads=args.threads, random_state=args.seed, show_progress=False)
    tlla.fit(lla.Corpus.open(args.corpus), callback=report)
    tlla_curve = tlla.convergence()
    if tlla.n_averaged_:
        print(f"topic-LLA, φ averaged over {tlla.n_averaged_} SE-steps: {tlla_curve[-1][1]:.1f}"
              f" after {tlla_curve[-1][0]:.0f} s", flush=True)
    target = lda_curve[-1][1]
    passed = next((t for t, ppl in tlla_curve if ppl < target), None)
    result = {"corpus": args.corpus, "settings": vars(args),
              "lda": {"curve": lda_curve, "fit_seconds": lda_curve[-1][0]},
              "topic_lla": {"curve": tlla_curve},
              "lda_final_validation_perplexity": target,
              "topic_lla_seconds_to_pass_lda": passed,
              "ratio_to_lda_fit_time": None if passed is None else passed / lda_curve[-1][0]}
    (out / "time_to_quality.json").write_text(json.dumps(result, indent=2))
    plot_convergence([{"run": f"lda-K{args.topics}", "model": "lda", "convergence": lda_curve},
                      {"run": f"topic-lla-K{args.topics}", "model": "topic-lla",
                       "convergence": tlla_curve}], out / "time_to_quality.png")
    print(json.dumps({k: result[k] for k in ("lda_final_validation_perplexity",
                                             "topic_lla_seconds_to_pass_lda",
                                             "ratio_to_lda_fit_time")}), flush=True)


if __name__ == "__main__":
    main()
