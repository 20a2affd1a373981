"""Topic-LLA benchmark: held-out perplexity vs LDA and unigram, independent learner vs joint SEM,
SE-step throughput vs a teacher-forced nn.LSTM of the same size, wall times.

    python benchmarks/topic_lla.py --corpus DIR --topics 50 [--iterations 10] [--json OUT]

DIR is a corpus from ``lla prepare`` (e.g. ``lla prepare --preset movielens
../shared/data/ml-100k/u.data --out movielens``).  Every model is scored by
``lla.evaluation.perplexity`` on the suffixes; topic-LLA with the particle filter (S particles).
The suffixes are only *reported* after every SEM iteration, never used to choose anything: the
number of iterations is fixed in advance (``--iterations``).
"""

import argparse
import json
import platform
import time

import numpy as np
import torch

from lla import LDA, Corpus, TopicLLA, Unigram
from lla.inference.counts import log_phi_wk
from lla.inference.schedule import auto_slots
from lla.inference.sem import StepConfig, fit_lstm
from lla.inference.se_step import se_step

from _common import lstm_forward_tokens_per_second


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--topics", type=int, default=50)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--embedding", type=int, default=128)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--lda-sweeps", type=int, default=200)
    ap.add_argument("--init-lstm-epochs", type=int, default=10)
    ap.add_argument("--lstm-epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32,
                    help="documents per LSTM minibatch (larger is faster on long documents)")
    ap.add_argument("--particles", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--score-every", type=int, default=1)
    ap.add_argument("--skip-independent", action="store_true",
                    help="do not train and score the independent learner")
    ap.add_argument("--json")
    args = ap.parse_args(argv)

    corpus = Corpus.open(args.corpus)
    K = args.topics
    res = {"corpus": str(args.corpus), "K": K, "E": args.embedding, "H": args.hidden,
           "S": args.particles, "machine": f"{platform.processor() or platform.machine()}, "
           f"{torch.get_num_threads()} torch threads", "date": time.strftime("%Y-%m-%d"),
           "torch": torch.__version__}
    t = time.perf_counter()
    uni = Unigram().fit(corpus)
    res["unigram"] = {"perplexity": uni.perplexity(corpus), "parameters": uni.n_parameters()}
    print("unigram", res["unigram"], flush=True)

    t = time.perf_counter()
    lda = LDA(K, n_iter=args.lda_sweeps, n_threads=args.threads, random_state=args.seed).fit(corpus)
    lda_seconds = time.perf_counter() - t
    res["lda"] = {"perplexity": lda.perplexity(corpus), "parameters": lda.n_parameters(),
                  "seconds": lda_seconds, "sweep_seconds": lda_seconds / args.lda_sweeps}
    print("lda", res["lda"], flush=True)

    common = dict(embedding_size=args.embedding, hidden_size=args.hidden,
                  init_lda_iter=args.lda_sweeps, init_lstm_epochs=args.init_lstm_epochs,
                  lstm_epochs_per_iter=args.lstm_epochs, n_threads=args.threads,
                  batch_size=args.batch_size,
                  device=args.device, random_state=args.seed)
    curve = []
    t_fit = time.perf_counter()

    def score(model, it, stats):
        if it % args.score_every == 0 or it == args.iterations:
            t0 = time.perf_counter()
            ppl = model.perplexity(corpus, n_particles=args.particles)
            curve.append({"iteration": it, "perplexity": ppl,
                          "scoring_seconds": time.perf_counter() - t0,
                          "se_tokens_per_second": stats.get("se_tokens_per_second"),
                          "se_seconds": stats.get("se_seconds"),
                          "lstm_seconds": stats.get("lstm_seconds"),
                          "lstm_loss": stats.get("lstm_loss"),
                          "phi_density": stats.get("phi_density")})
            print("topic-lla", curve[-1], flush=True)

    model = TopicLLA(K, n_iter=args.iterations, **common)
    model.fit(corpus, callback=score)
    fit_seconds = time.perf_counter() - t_fit - sum(c["scoring_seconds"] for c in curve)
    if args.skip_independent:
        res["independent"] = {"note": "skipped (--skip-independent)"}
    else:
        indep = TopicLLA(K, n_iter=0, **common).fit(corpus)
        t0 = time.perf_counter()
        res["independent"] = {"perplexity": indep.perplexity(corpus, n_particles=args.particles),
                              "parameters": indep.n_parameters(),
                              "scoring_seconds": time.perf_counter() - t0}
    print("independent", res["independent"], flush=True)
    res["topic_lla"] = {"perplexity": model.perplexity(corpus, n_particles=args.particles),
                        "parameters": model.n_parameters(), "curve": curve,
                        "fit_seconds_without_scoring": fit_seconds, "history": model.history_}
    print("topic-lla final", res["topic_lla"]["perplexity"], flush=True)

    # the independent learner given the same extra LSTM epochs on LDA's fixed assignments
    if not args.skip_independent:
        words, _, lengths = corpus.prefix_arrays()
        extra = args.iterations * args.lstm_epochs
        cfg = StepConfig(epochs=extra)
        fit_lstm(indep.dynamics_, indep._optimizer, indep.z_, lengths, extra, cfg,
                 np.random.default_rng(args.seed), torch.Generator(device=args.device).manual_seed(0))
        res["independent_more_epochs"] = {
            "extra_epochs": extra,
            "perplexity": indep.perplexity(corpus, n_particles=args.particles)}
        print("independent + epochs", res["independent_more_epochs"], flush=True)

    # SE-step throughput vs teacher-forced nn.LSTM forward + softmax over the same tokens
    words, _, lengths = corpus.prefix_arrays()
    dev = torch.device(args.device)
    stepper = model.dynamics_.stepper()
    log_phi = log_phi_wk(model.n_wk_, model.beta, dev)
    best = float("inf")
    for rep in range(2):
        t0 = time.perf_counter()
        se_step(stepper, log_phi, words, lengths, generator=torch.Generator(device=dev).manual_seed(rep),
                n_slots=auto_slots(lengths))
        best = min(best, time.perf_counter() - t0)
    res["speed"] = {"se_step_tokens_per_second": len(words) / best,
                    "se_step_seconds": best, "se_slots": auto_slots(lengths),
                    "lstm_forward_tokens_per_second": lstm_forward_tokens_per_second(
                        K, args.embedding, args.hidden, lengths, dev),
                    "lda_sweep_seconds": res["lda"]["sweep_seconds"]}
    print("speed", res["speed"], flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2, default=float)
    return res


if __name__ == "__main__":
    main()
