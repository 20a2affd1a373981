"""Word- and char-LLA benchmark: held-out perplexity, HR@10, MRR and model size of topic-, word-
and char-LLA next to LDA; SE-step throughput of the fused pass (word/char) vs topic-LLA's
sequential SE-step.

    python benchmarks/word_char_lla.py --corpus DIR --topics 50 [--iterations 10] [--json OUT]

DIR is a corpus from ``lla prepare`` (e.g. ``lla prepare --preset movielens
../shared/data/ml-100k/u.data --out movielens``).  All models share K, E = H, the LDA start
(``--lda-sweeps`` sweeps, seed ``--seed``), ``--init-lstm-epochs`` LSTM epochs on LDA's z and
``--iterations`` SEM iterations with ``--lstm-epochs`` epochs each; the number of iterations is
fixed in advance and the suffixes are only reported.  Word/char-LLA are scored exactly,
topic-LLA with the particle filter (``--particles``), LDA by document completion (θ_d of the
prefix; its ranks from θ_d φ, ``LDA.heldout_ranks``).  ``--models`` picks a subset (e.g. ``word,char`` on wiki).
"""

import argparse
import json
import platform
import time

import torch

from lla import LDA, CharLLA, Corpus, TopicLLA, Unigram, WordLLA
from lla.evaluation import hit_rate, mean_reciprocal_rank
from lla.inference.se_step import se_step
from lla.inference.counts import log_phi_wk
from lla.inference.schedule import auto_slots
from lla.inference.fused import fused_se_step

from _common import best_time


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
    ap.add_argument("--particles", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--models", default="lda,topic,word,char")
    ap.add_argument("--no-ranking", action="store_true", help="skip HR@10 / MRR (text corpora)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    wanted = set(args.models.split(","))

    corpus = Corpus.open(args.corpus)
    K = args.topics
    res = {"corpus": str(args.corpus), "K": K, "E": args.embedding, "H": args.hidden,
           "iterations": args.iterations, "S": args.particles,
           "machine": f"{platform.processor() or platform.machine()}, "
                      f"{torch.get_num_threads()} torch threads",
           "date": time.strftime("%Y-%m-%d"), "torch": torch.__version__}

    def dump():
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=2, default=float)

    def ranking(ranks):
        return {"hr@10": hit_rate(ranks, 10), "mrr": mean_reciprocal_rank(ranks)}

    uni = Unigram().fit(corpus)
    res["unigram"] = {"perplexity": uni.perplexity(corpus), "parameters": uni.n_parameters()}
    if not args.no_ranking:
        res["unigram"].update(ranking(uni.heldout_ranks(corpus)))
    print("unigram", res["unigram"], flush=True)

    if "lda" in wanted:
        t = time.perf_counter()
        lda = LDA(K, n_iter=args.lda_sweeps, n_threads=args.threads,
                  random_state=args.seed).fit(corpus)
        res["lda"] = {"perplexity": lda.perplexity(corpus), "parameters": lda.n_parameters(),
                      "seconds": time.perf_counter() - t}
        if not args.no_ranking:
            res["lda"].update(ranking(lda.heldout_ranks(corpus)))
        print("lda", res["lda"], flush=True)
        dump()

    common = dict(embedding_size=args.embedding, hidden_size=args.hidden,
                  init_lda_iter=args.lda_sweeps, init_lstm_epochs=args.init_lstm_epochs,
                  lstm_epochs_per_iter=args.lstm_epochs, n_threads=args.threads,
                  device=args.device, random_state=args.seed)
    words, _, lengths = corpus.prefix_arrays()
    dev = torch.device(args.device)
    fitted = {}
    for name, cls in (("topic", TopicLLA), ("word", WordLLA), ("char", CharLLA)):
        if name not in wanted:
            continue
        t = time.perf_counter()
        model = cls(K, n_iter=args.iterations, **common).fit(corpus)
        fit_seconds = time.perf_counter() - t
        t = time.perf_counter()
        kw = {"n_particles": args.particles} if name == "topic" else {}
        entry = {"perplexity": model.perplexity(corpus, **kw),
                 "parameters": model.n_parameters(), "fit_seconds": fit_seconds,
                 "scoring_seconds": time.perf_counter() - t,
                 "phi_density": model.iteration_history()[-1]["phi_density"],
                 "se_tokens_per_second_in_fit": [h.get("se_tokens_per_second")
                                                 for h in model.iteration_history()[1:]],
                 "lstm_seconds_per_iteration": [h.get("lstm_seconds")
                                                for h in model.iteration_history()[1:]]}
        if name != "topic" and not args.no_ranking:
            t = time.perf_counter()
            entry.update(ranking(model.heldout_ranks(corpus)))
            entry["ranking_seconds"] = time.perf_counter() - t
        # SE-step throughput on the final model, best of two
        log_phi = log_phi_wk(model.n_wk_, model.beta, dev)
        if name == "topic":
            stepper = model.dynamics_.stepper()
            sec = best_time(lambda rep: se_step(
                stepper, log_phi, words, lengths,
                generator=torch.Generator(device=dev).manual_seed(rep),
                n_slots=auto_slots(lengths)))
        else:
            sec = best_time(lambda rep: fused_se_step(
                model.dynamics_, log_phi, words, lengths,
                torch.Generator(device=dev).manual_seed(rep)))
        entry["se_step_seconds"] = sec
        entry["se_step_tokens_per_second"] = len(words) / sec
        res[f"{name}_lla"] = entry
        fitted[name] = model
        print(f"{name}-lla", {k: v for k, v in entry.items()
                              if not isinstance(v, list)}, flush=True)
        dump()
    # SE-step throughput, interleaved so that machine load hits all alike: topic-LLA's sequential
    # SE-step (a fresh topic dynamics of the same K, E, H; continuous batching, one thread) vs
    # the fused SE-step of the trained word/char models (one thread), best of 3
    from lla.nn.dynamics import Dynamics
    topic_dyn = fitted["topic"].dynamics_ if "topic" in fitted else Dynamics(
        K, args.embedding, args.hidden, device=dev).reset_parameters(
            torch.Generator().manual_seed(0)).eval()
    log_phi = log_phi_wk(next(iter(fitted.values())).n_wk_, 0.01, dev) if fitted else None
    if log_phi is not None:
        best = {}
        for rep in range(3):
            t0 = time.perf_counter()
            se_step(topic_dyn.stepper(), log_phi, words, lengths,
                    generator=torch.Generator(device=dev).manual_seed(rep),
                    n_slots=auto_slots(lengths))
            best["topic"] = min(best.get("topic", 1e9), time.perf_counter() - t0)
            for name in ("word", "char"):
                if name in fitted:
                    t0 = time.perf_counter()
                    fused_se_step(fitted[name].dynamics_, log_phi, words, lengths,
                                  torch.Generator(device=dev).manual_seed(rep))
                    best[name] = min(best.get(name, 1e9), time.perf_counter() - t0)
        res["se_speed_interleaved"] = {f"{k}_tokens_per_second": len(words) / v
                                       for k, v in best.items()}
        print("se speed", res["se_speed_interleaved"], flush=True)
    dump()
    return res


if __name__ == "__main__":
    main()
