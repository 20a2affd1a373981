"""SE-step throughput of topic-LLA, the K-way forward step against the Metropolis–Hastings step
(issue 14), at several K on one corpus — and how far the MH chain's draws are from the exact
conditional.

For every K the same trained topic-LLA runs both SE-steps over the same training prefixes,
interleaved (best of ``--repeats`` rounds, every configuration once per round), so that machine
load hits all alike.  Reported per MH configuration (``--mh-steps`` × ``--mh-head``): tokens/s,
the speed-up over the forward step, the acceptance rates of the word and document proposals,
the logits computed per token (the forward step computes K), and the mean total variation
between the distribution of the chain's draw and the exact π_t ∝ θ_t φ_{w_t} on ``--tv-tokens``
real tokens (computed exactly from the proposal densities and the K×K MH transition matrices,
along forward-sampled paths of the model).

The models: ``--compare OUT`` takes OUT/runs/topic-lla-K<K>/model of an ``lla compare`` run;
otherwise the independent learner (iteration 0 of topic-LLA: ``--lda-iterations`` LDA sweeps,
``--init-lstm-epochs`` LSTM epochs) is trained once per K and kept in ``--work``.

    python benchmarks/se_mh_speed.py --corpus wiki --topics 100,250,1000 --work se-mh \\
        --json se_mh.json            # the lead's full run
    python benchmarks/se_mh_speed.py --corpus wiki-sample --topics 100,1000 --docs 100 \\
        --work /tmp/se-mh --repeats 1 --tv-tokens 40     # a short check
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

import lla
from lla.inference.counts import FixedPhi
from lla.inference.mh_step import DOC_ALPHA, mh_se_step
from lla.inference.schedule import auto_slots
from lla.inference.se_step import se_step


def _ints(text):
    return [int(x) for x in text.split(",") if x]


def trained_model(corpus, K, args):
    """The topic-LLA of K topics: from ``--compare``, from ``--work``, or trained now."""
    if args.compare:
        return lla.load_model(Path(args.compare) / "runs" / f"topic-lla-K{K}" / "model"), None
    path = Path(args.work) / f"topic-lla-K{K}"
    if (path / "model.json").exists():
        return lla.load_model(path), None
    t0 = time.perf_counter()
    model = lla.TopicLLA(K, n_iter=0, init_lda_iter=args.lda_iterations,
                         init_lstm_epochs=args.init_lstm_epochs, n_threads=args.threads,
                         random_state=args.seed, show_progress=False).fit(corpus)
    seconds = time.perf_counter() - t0
    model.save(path)
    return model, seconds


# -- exact distance of the MH chain's draw from π_t -------------------------------------------
def _independence_kernel(q, pi):
    """K×K transition matrix of one MH step with independence proposal q and target π."""
    a = pi / q
    P = q[None, :] * np.minimum(1.0, a[None, :] / a[:, None])
    np.fill_diagonal(P, 0.0)
    P[np.diag_indices_from(P)] = 1.0 - P.sum(axis=1)
    return P


def word_proposal_density(tab, w, theta):
    """q_w (K,) of :mod:`lla._kernels.se_mh` for word w given θ_t (K,) (normalised or not)."""
    a, e = tab.word_ptr[w], tab.word_ptr[w + 1]
    J_w = min(e - a, tab.head)
    head = tab.word_topic[a:a + J_w]
    a_w = tab.n_wk[w] * tab.inv_nk
    b = tab.beta * tab.inv_nk
    Phi = tab.head_mass[w] + tab.rest_mass[w] + tab.dense_mass
    q = (a_w + b) / Phi
    if J_w:
        weighted = theta[head] * a_w[head]
        q[head] = tab.head_mass[w] / Phi * weighted / weighted.sum() + b[head] / Phi
    return q


def chain_tv(model, corpus, heads, steps, n_tokens, seed=0):
    """Mean TV(distribution of the MH draw, π_t) over ``n_tokens`` tokens of forward-sampled
    paths, for every (head, mh_steps) pair: {(J, m): tv}."""
    rng = np.random.default_rng(seed)
    words, _, lengths = corpus.prefix_arrays()
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    phi = FixedPhi(model.n_wk_, model.beta)
    tabs = {J: phi.proposal(J) for J in heads}
    K = model.n_wk_.shape[1]
    phi_wk = (model.n_wk_ + model.beta) * tabs[heads[0]].inv_nk        # (V, K)
    stepper = model.dynamics_.stepper()
    every = 10
    tv = {(J, m): [] for J in heads for m in steps}
    done = 0
    for d in rng.permutation(len(lengths)):
        ws = words[offsets[d]:offsets[d + 1]]
        state, history = stepper.initial_state(1), []
        for t, w in enumerate(ws):
            with torch.no_grad():
                theta = torch.exp(stepper.log_theta(state)[0]).double().cpu().numpy()
            pi = theta * phi_wk[w]
            pi /= pi.sum()
            if t % every == every - 1:
                q_doc = (np.bincount(np.asarray(history, dtype=np.int64), minlength=K) + DOC_ALPHA) / (t + K * DOC_ALPHA)
                P_doc = _independence_kernel(q_doc, pi)
                for J in heads:
                    q_word = word_proposal_density(tabs[J], w, theta)
                    P_word = _independence_kernel(q_word, pi)
                    p = q_word
                    for m in range(1, max(steps) + 1):
                        p = p @ P_doc @ P_word
                        if m in steps:
                            tv[(J, m)].append(0.5 * np.abs(p - pi).sum())
                done += 1
                if done >= n_tokens:
                    return {k: float(np.mean(v)) for k, v in tv.items()}
            k = int(rng.choice(K, p=pi))
            history.append(k)
            with torch.no_grad():
                state = stepper.advance(state, torch.tensor([k], device=stepper.device))
    return {k: float(np.mean(v)) for k, v in tv.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--topics", type=_ints, default=[100, 250, 1000])
    ap.add_argument("--compare", help="output directory of `lla compare` with the models")
    ap.add_argument("--work", default="se-mh-models", help="where trained models are kept")
    ap.add_argument("--lda-iterations", type=int, default=100)
    ap.add_argument("--init-lstm-epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="threads of the training")
    ap.add_argument("--docs", type=int, default=0, help="time the SE-steps on the first N "
                                                        "documents only (0: all)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--mh-steps", type=_ints, default=[1, 2])
    ap.add_argument("--mh-head", type=_ints, default=[16, 64, 100000])
    ap.add_argument("--tv-tokens", type=int, default=100, help="tokens of the TV estimate "
                                                               "(0: skip)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)

    corpus = lla.Corpus.open(args.corpus)
    words, _, lengths = corpus.prefix_arrays()
    if args.docs:
        lengths = lengths[:args.docs]
        words = words[:int(lengths.sum())]
    n = len(words)
    slots = auto_slots(lengths)
    results = {"corpus": str(args.corpus), "prefix_tokens_timed": n, "slots": slots,
               "machine": f"{platform.processor() or platform.machine()}, SE-steps on one "
                          "torch thread (lla._threads.one_cpu_thread)",
               "date": time.strftime("%Y-%m-%d %H:%M"), "torch": torch.__version__,
               "doc_alpha": DOC_ALPHA, "by_K": {}}
    for K in args.topics:
        model, train_seconds = trained_model(corpus, K, args)
        phi = FixedPhi(model.n_wk_, model.beta)
        t0 = time.perf_counter()
        log_phi = phi.log_phi_wk
        log_phi_seconds = time.perf_counter() - t0
        table_seconds = {}
        for J in args.mh_head:
            t0 = time.perf_counter()
            phi.proposal(J)
            table_seconds[J] = time.perf_counter() - t0
        configs = [("forward", None, None)] + [("mh", J, m) for J in args.mh_head
                                               for m in args.mh_steps]
        best, stats = {}, {}
        for rep in range(args.repeats):
            for cfg in configs:
                gen = torch.Generator().manual_seed(rep)
                st = {}
                t0 = time.perf_counter()
                if cfg[0] == "forward":
                    se_step(model.dynamics_.stepper(), log_phi, words, lengths, generator=gen,
                            n_slots=slots)
                else:
                    mh_se_step(model.dynamics_.stepper(), phi.proposal(cfg[1]), words, lengths,
                               mh_steps=cfg[2], generator=gen, n_slots=slots, stats=st)
                best[cfg] = min(best.get(cfg, float("inf")), time.perf_counter() - t0)
                stats[cfg] = st
        tv = chain_tv(model, corpus, args.mh_head, args.mh_steps, args.tv_tokens) \
            if args.tv_tokens else {}
        nnz = int(np.count_nonzero(model.n_wk_))
        kw = np.count_nonzero(model.n_wk_, axis=1)
        rows = []
        for cfg in configs:
            row = {"sampler": cfg[0], "mh_head": cfg[1], "mh_steps": cfg[2],
                   "seconds": best[cfg], "tokens_per_second": n / best[cfg],
                   "speedup": best[configs[0]] / best[cfg]}
            if cfg[0] == "mh":
                row.update({k: float(v) for k, v in stats[cfg].items()})
                row["tv_to_exact"] = tv.get((cfg[1], cfg[2]))
            rows.append(row)
        results["by_K"][K] = {"train_seconds": train_seconds, "log_phi_seconds": log_phi_seconds,
                              "table_seconds": table_seconds, "nnz": nnz,
                              "mean_K_w_per_token": float(kw[words].mean()), "rows": rows}
        print(f"\n{corpus.path.name}, K={K}: {n:,} prefix tokens in {slots} slots, "
              f"nnz(n_wk) {nnz:,}, mean K_w per token {kw[words].mean():.1f}, tables "
              f"{max(table_seconds.values()):.2f} s, log φ {log_phi_seconds:.2f} s")
        print("| SE-step | J | m | tokens/s | × forward | word acc. | doc acc. | logits/token "
              "| TV to π_t |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            if r["sampler"] == "forward":
                print(f"| forward | | | {r['tokens_per_second']:,.0f} | 1.00 | | | {K} | 0 |")
            else:
                J = "all" if r["mh_head"] >= K else r["mh_head"]
                tv_text = "" if r["tv_to_exact"] is None else f"{r['tv_to_exact']:.3f}"
                print(f"| mh | {J} | {r['mh_steps']} | {r['tokens_per_second']:,.0f} | "
                      f"{r['speedup']:.2f} | {r['word_acceptance']:.2f} | "
                      f"{r['doc_acceptance']:.2f} | {r['logits_per_token']:.1f} | {tv_text} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=float) + "\n")
    return results


if __name__ == "__main__":
    main()
