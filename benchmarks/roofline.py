"""LLA's training cost against this machine's own limit (issue 16, "LLA against the roofline").

    OMP_NUM_THREADS=1 python benchmarks/roofline.py CORPUS [--topics 100] [--embedding 128]
        [--hidden 128] [--threads 1] [--tokens 200000] [--json out.json]

In one run, with one thread count:

1. the dense float32 matrix-multiply throughput (multiply-accumulates per second) of the shapes
   an LSTM step uses: rows × (E+H) by (E+H) × 4H (the gates) and rows × H by H × K (the
   topic softmax), for the row counts the steps below use — the *peak* they are compared with;
2. the achieved MAC/s of the SE-step (topic-LLA's sequential sampler), one M-step LSTM epoch
   (forward + backward, teacher forcing), the particle filter (S = 16), word-LLA's M-step
   epoch (the same LSTM with a V×E word table as input) and one word-LSTM epoch (sampled
   softmax), each as a fraction of the peak of its own shapes.

The networks are freshly initialised (speed does not depend on the weights); the documents are
the corpus's real training prefixes (their lengths set the batching), truncated to about
``--tokens`` tokens.  MAC counts per token (forward; backward ≈ 2 × forward):

    LSTM step      4H(E+H)              (the input part is a table lookup in the SE-step and
                                         the particle filter: 4H·H there)
    topic softmax  H·K
    word softmax   H·(negatives + 1)    (sampled softmax: 1,024 negatives)
"""

import argparse
import json
import time

import numpy as np
import torch

import lla
from lla.inference.particle_filter import particle_filter_log_prob
from lla.inference.schedule import auto_slots
from lla.inference.se_step import se_step
from lla.nn.dynamics import Dynamics, WordEncoder
from lla.nn.training import make_optimizer, train_epoch


def peak_macs(rows, k, n, repeats=20):
    """Best MAC/s of a float32 (rows, k) @ (k, n) product."""
    a, b = torch.randn(rows, k), torch.randn(k, n)
    torch.mm(a, b)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(10):
            torch.mm(a, b)
        best = min(best, (time.perf_counter() - start) / 10)
    return rows * k * n / best


def timed(fn, repeats=2):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--embedding", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=200_000)
    ap.add_argument("--particles", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--bptt", type=int, default=64)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    K, E, H, S = args.topics, args.embedding, args.hidden, args.particles

    corpus = lla.Corpus.open(args.corpus)
    words, _, lengths = corpus.prefix_arrays()
    keep = np.searchsorted(np.cumsum(lengths), args.tokens) + 1
    lengths = lengths[:keep]
    words = words[:int(lengths.sum())]
    N = int(lengths.sum())
    rng = np.random.default_rng(0)
    z = rng.integers(0, K, N)
    dyn = Dynamics(K, E, H).reset_parameters(torch.Generator().manual_seed(0)).eval()
    log_phi = torch.log_softmax(torch.randn(corpus.n_types, K), dim=0).contiguous()
    slots = auto_slots(lengths)
    pf_slots = max(1, auto_slots(lengths, cap=max(1, 4096 // S), floor=1))
    rows = {"se": slots, "pf": pf_slots * S, "m": args.batch_size * args.bptt}

    peaks = {name: (peak_macs(r, H, 4 * H), peak_macs(r, H, K)) for name, r in rows.items()}
    peaks["m_in"] = (peak_macs(rows["m"], E + H, 4 * H), peaks["m"][1])
    results = {"machine_threads": args.threads, "tokens": N, "K": K, "E": E, "H": H,
               "rows": rows, "steps": []}

    def record(name, seconds, macs, peak):
        achieved = macs / seconds
        results["steps"].append({"step": name, "seconds": seconds, "tokens_per_s": N / seconds,
                                 "macs_per_s": achieved, "peak_macs_per_s": peak,
                                 "fraction_of_peak": achieved / peak})
        print(f"{name:<28} {N / seconds:>12,.0f} tok/s  {achieved / 1e9:7.2f} GMAC/s  "
              f"peak {peak / 1e9:7.2f}  = {achieved / peak:6.1%}", flush=True)

    def peak_of(gates_peak, softmax_peak, gates_macs, softmax_macs):
        """The peak of a step that spends its MACs on two product shapes."""
        return (gates_macs + softmax_macs) / (gates_macs / gates_peak + softmax_macs / softmax_peak)

    for name, (g, s_) in peaks.items():
        print(f"peak {name:<6} rows {rows.get(name.split('_')[0], 0):>6}: gates "
              f"{g / 1e9:7.2f} GMAC/s, softmax {s_ / 1e9:7.2f} GMAC/s", flush=True)

    # SE-step: per token 4H·H (h @ W_hh; the input part is a table row) + H·K
    gen = torch.Generator().manual_seed(1)
    sec = timed(lambda: se_step(dyn.stepper(), log_phi, words, lengths, generator=gen,
                                n_slots=slots))
    record("SE-step", sec, N * (4 * H * H + H * K),
           peak_of(*peaks["se"], 4 * H * H, H * K))

    # particle filter: S rows per token
    sec = timed(lambda: particle_filter_log_prob(
        dyn.stepper(), log_phi, words, lengths, np.zeros(len(lengths), np.int64),
        n_particles=S, generator=torch.Generator().manual_seed(2), n_slots=pf_slots), 1)
    record(f"particle filter S={S}", sec, N * S * (4 * H * H + H * K),
           peak_of(*peaks["pf"], 4 * H * H, H * K))

    # M-step: one teacher-forced epoch, forward + backward = 3 × forward
    opt = make_optimizer(dyn, 1e-3, 1e-4)
    sec = timed(lambda: train_epoch(dyn, opt, z, lengths, batch_size=args.batch_size,
                                    bptt=args.bptt, rng=np.random.default_rng(0),
                                    generator=torch.Generator().manual_seed(3)), 1)
    record("M-step LSTM epoch", sec, 3 * N * (4 * H * (E + H) + H * K),
           peak_of(*peaks["m_in"], 4 * H * (E + H), H * K))

    # word-LLA's M-step epoch: the same LSTM reading the previous word (a V×E input table)
    wdyn = Dynamics(K, E, H, encoder=WordEncoder(corpus.n_types, E)).reset_parameters(
        torch.Generator().manual_seed(0)).eval()
    wopt = make_optimizer(wdyn, 1e-3, 1e-4)
    sec = timed(lambda: train_epoch(wdyn, wopt, z, lengths, batch_size=args.batch_size,
                                    bptt=args.bptt, rng=np.random.default_rng(0),
                                    generator=torch.Generator().manual_seed(3), symbols=words), 1)
    record("word-LLA M-step epoch", sec, 3 * N * (4 * H * (E + H) + H * K),
           peak_of(*peaks["m_in"], 4 * H * (E + H), H * K))

    # word-LSTM epoch (sampled softmax, 1,024 negatives) on the same documents
    sub = corpus.subset(np.arange(keep))
    lm = lla.WordLSTM(E, H, n_epochs=1, validation=False, n_threads=args.threads,
                      random_state=0, show_progress=False)
    n_sub = sub.n_prefix_tokens
    negatives = min(1024, corpus.n_types // 2 - 1) if corpus.n_types > 2048 else corpus.n_types
    sec = timed(lambda: lm.fit(sub), 1)
    record("word-LSTM epoch", sec * N / max(n_sub, 1),
           3 * N * (4 * H * (E + H) + H * (negatives + 1)),
           peak_of(*peaks["m_in"], 4 * H * (E + H), H * (negatives + 1)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
