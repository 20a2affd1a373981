"""SE-step throughput of the trained LLA variants of an ``lla compare`` run, measured back to
back (interleaved, best of ``--repeats``) so that machine load hits every variant alike:

* topic-LLA's sequential SE-step (one LSTM step per token, sampling z_t before step t+1;
  continuous batching over documents);
* word-/char-LLA's fused SE-step (one LSTM pass over each document, then sampling);
* a teacher-forced ``torch.nn.LSTM`` forward + K-way log-softmax of the same sizes over the same
  tokens (no sampling, padded batches) — the yardstick of issue 4 (target: SE-step within 2×);
* one LDA sweep (exact sampler, one thread), for "one SEM iteration against one LDA sweep".

    python benchmarks/se_speed.py --corpus DIR --compare OUT --topics K [--json FILE]

OUT is the ``--out`` directory of ``lla compare``; the models are read from
OUT/runs/{topic,word,char}-lla-K<K>/model.
"""

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from lla import LDA, Corpus, load_model
from lla.inference.se_step import se_step
from lla.inference.counts import log_phi_wk
from lla.inference.schedule import auto_slots
from lla.inference.fused import fused_se_step

from _common import lstm_forward_seconds


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--compare", required=True, help="output directory of `lla compare`")
    ap.add_argument("--topics", type=int, required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lda-sweeps", type=int, default=10)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json")
    args = ap.parse_args(argv)

    corpus = Corpus.open(args.corpus)
    K = args.topics
    dev = torch.device(args.device)
    words, _, lengths = corpus.prefix_arrays()
    models = {}
    for name in ("topic", "word", "char"):
        path = Path(args.compare) / "runs" / f"{name}-lla-K{K}" / "model"
        if path.exists():
            models[name] = load_model(path)
            models[name].dynamics_.to(dev)
    if "topic" not in models:
        raise SystemExit(f"{args.compare}: no topic-lla-K{K} run")
    topic = models["topic"]
    E, H = topic.embedding_size, topic.hidden_size
    log_phi = log_phi_wk(topic.n_wk_, topic.beta, dev)

    best = {}

    def timed(key, fn):
        t0 = time.perf_counter()
        fn()
        best[key] = min(best.get(key, float("inf")), time.perf_counter() - t0)

    for rep in range(args.repeats):
        gen = torch.Generator(device=dev).manual_seed(rep)
        timed("topic-lla sequential SE-step", lambda: se_step(
            topic.dynamics_.stepper(), log_phi, words, lengths, generator=gen,
            n_slots=auto_slots(lengths)))
        for name in ("word", "char"):
            if name in models:
                timed(f"{name}-lla fused SE-step", lambda: fused_se_step(
                    models[name].dynamics_, log_phi, words, lengths, gen))
        timed("nn.LSTM forward + K-way log-softmax", lambda: lstm_forward_seconds(
            K, E, H, lengths, dev))
    stamps = []   # wall clock after every sweep: sweep time without LDA's setup and averaging
    LDA(K, n_iter=args.lda_sweeps + 1, n_threads=1, random_state=0, show_progress=False).fit(
        corpus, callback=lambda model, sweep, stats: stamps.append(time.perf_counter()))
    lda_sweep = min(b - a for a, b in zip(stamps, stamps[1:]))

    n = len(words)
    res = {"corpus": str(args.corpus), "K": K, "E": E, "H": H, "prefix_tokens": n,
           "machine": f"{platform.processor() or platform.machine()}, "
                      f"{torch.get_num_threads()} torch threads, device {args.device}",
           "date": time.strftime("%Y-%m-%d %H:%M"), "torch": torch.__version__,
           "seconds": best, "tokens_per_second": {k: n / v for k, v in best.items()},
           "lda_sweep_seconds": lda_sweep,
           "sem_iterations": {name: [{k: h.get(k) for k in ("iteration", "se_seconds",
                                                           "lstm_seconds")}
                                     for h in m.history_] for name, m in models.items()}}
    ref = best["nn.LSTM forward + K-way log-softmax"]
    print(f"| {corpus.path.name} K={K}, E={E}, H={H} | seconds | tokens/s | vs nn.LSTM |")
    print("|---|---:|---:|---:|")
    for key, sec in best.items():
        print(f"| {key} | {sec:.2f} | {n / sec:,.0f} | {ref / sec:.2f}× |")
    print(f"| one LDA sweep (K={K}, exact sampler, 1 thread, best of {args.lda_sweeps}) | {lda_sweep:.3f} | "
          f"{n / lda_sweep:,.0f} | |")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, default=float) + "\n")
    return res


if __name__ == "__main__":
    main()
