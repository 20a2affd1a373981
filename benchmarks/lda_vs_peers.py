"""LDA: lla against tomotopy and the `lda` package on the same corpus, in the same run.

For every K: training-prefix tokens per second per sweep (median over the timing sweeps, the
first two skipped) for lla (each --threads value), tomotopy (workers = each --threads value) and
the `lda` package (one thread), and every model's held-out perplexity under lla's protocol
(DESIGN §3, document completion: θ_d from the library's doc-topic state of the prefix, φ from
its topic-word state, suffix tokens scored by lla.evaluation.perplexity) after the same sweeps.
With --quality-sweeps > 0 a separate single-thread run at the first K trains lla and tomotopy
for that many sweeps and reports perplexity of the last state and averaged over the last 20.

    python benchmarks/lda_vs_peers.py --corpus wiki --topics 100 1000 --sweeps 50 \
        --quality-sweeps 200 --json results.json

``--corpus DIR`` is a corpus written by
``lla prepare --preset wiki ../shared/data/enwiki-2015-wikiextractor/enwiki-AA-00-19.txt.xz``
(with ``--raw FILE`` instead, the script prepares it itself into --work).
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

ALPHA, BETA = 0.1, 0.01


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# -- scoring under lla's protocol --------------------------------------------------------------
def heldout_perplexity(corpus, theta, phi):
    """theta (D, K) from the prefixes, phi (K, V); score every suffix token."""
    from lla.evaluation import perplexity
    phi_wk = np.ascontiguousarray(phi.T)
    out = [np.log(phi_wk[np.asarray(corpus.suffix(d))] @ theta[d]) for d in range(len(corpus))]
    return perplexity(np.concatenate(out))


def theta_phi_from_counts(n_dk, n_wk, prefix_lengths):
    """θ = (n_dk+α)/(N_d+Kα) (D, K), φ = (n_wk+β)/(n_k+Vβ) as (K, V)."""
    K = n_dk.shape[1]
    V = n_wk.shape[0]
    theta = (n_dk + ALPHA) / (prefix_lengths[:, None] + K * ALPHA)
    phi = ((n_wk + BETA) / (n_wk.sum(axis=0) + V * BETA)).T
    return theta, phi


def median_rate(seconds, n_tokens):
    tail = seconds[2:] if len(seconds) > 4 else seconds
    return n_tokens / statistics.median(tail)


# -- lla -----------------------------------------------------------------------------------------
def run_lla(corpus, K, sweeps, threads, sampler, n_average=0):
    from lla import LDA
    seconds = []
    model = LDA(K, alpha=ALPHA, beta=BETA, n_iter=sweeps, n_average=n_average, sampler=sampler,
                n_threads=threads, random_state=1, evaluate_every=10**9, show_progress=False)
    t0 = time.perf_counter()
    model.fit(corpus, callback=lambda m, s, st: seconds.append(st["seconds"]))
    wall = time.perf_counter() - t0
    theta, phi = theta_phi_from_counts(model.n_dk_, model.n_wk_, corpus.prefix_lengths)
    return model, {"tokens_per_second": median_rate(seconds, corpus.n_prefix_tokens),
                   "wall_seconds": wall, "perplexity": heldout_perplexity(corpus, theta, phi),
                   "perplexity_averaged": (model.perplexity(corpus) if n_average else None)}


# -- tomotopy ------------------------------------------------------------------------------------
def tomotopy_model(corpus, K):
    import tomotopy as tp
    model = tp.LDAModel(k=K, alpha=ALPHA, eta=BETA, seed=1)
    for d in range(len(corpus)):
        model.add_doc([str(w) for w in np.asarray(corpus.prefix(d)).tolist()])
    model.train(0)
    return model


def tomotopy_state(model, corpus):
    """θ (D, K) and φ (K, V) in lla's word ids."""
    K, V = model.k, corpus.n_types
    ids = np.array([int(w) for w in model.used_vocabs], dtype=np.int64)
    phi = np.full((K, V), np.nan)
    dist = np.stack([model.get_topic_word_dist(k) for k in range(K)])  # (K, |used|)
    phi[:, ids] = dist
    if np.isnan(phi).any():  # a type never seen in a prefix: the smoothing mass
        n_k = np.array(model.get_count_by_topics(), dtype=np.float64)
        fill = BETA / (n_k + len(ids) * BETA)
        phi = np.where(np.isnan(phi), fill[:, None], phi)
        phi /= phi.sum(axis=1, keepdims=True)
    theta = np.stack([np.asarray(doc.get_topic_dist()) for doc in model.docs])
    return theta, phi


def run_tomotopy(corpus, K, sweeps, workers, n_average=0):
    model = tomotopy_model(corpus, K)
    seconds, sum_theta, sum_phi, n_sum = [], 0.0, 0.0, 0
    for sweep in range(1, sweeps + 1):
        t0 = time.perf_counter()
        model.train(1, workers=workers)
        seconds.append(time.perf_counter() - t0)
        if n_average and sweep > sweeps - n_average:
            theta, phi = tomotopy_state(model, corpus)
            sum_theta, sum_phi, n_sum = sum_theta + theta, sum_phi + phi, n_sum + 1
    theta, phi = tomotopy_state(model, corpus)
    result = {"tokens_per_second": median_rate(seconds, corpus.n_prefix_tokens),
              "wall_seconds": sum(seconds), "perplexity": heldout_perplexity(corpus, theta, phi),
              "perplexity_averaged": None}
    if n_sum:
        result["perplexity_averaged"] = heldout_perplexity(corpus, sum_theta / n_sum,
                                                           sum_phi / n_sum)
    return result


# -- the `lda` package ---------------------------------------------------------------------------
def run_lda_package(corpus, K, sweeps):
    import logging

    import lda
    from scipy.sparse import csr_matrix
    logging.getLogger("lda").setLevel(logging.WARNING)
    rows = np.repeat(np.arange(len(corpus)), corpus.prefix_lengths)
    words = np.asarray(corpus.tokens)[corpus.prefix_mask()]
    X = csr_matrix((np.ones(len(words), np.int64), (rows, words)),
                   shape=(len(corpus), corpus.n_types))
    model = lda.LDA(n_topics=K, n_iter=sweeps, alpha=ALPHA, eta=BETA, random_state=1,
                    refresh=10**9)
    t0 = time.perf_counter()
    model.fit(X)
    wall = time.perf_counter() - t0
    return {"tokens_per_second": corpus.n_prefix_tokens * sweeps / wall, "wall_seconds": wall,
            "perplexity": heldout_perplexity(corpus, model.doc_topic_, model.topic_word_),
            "perplexity_averaged": None, "sweeps": sweeps}


# -- driver --------------------------------------------------------------------------------------
def machine():
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "date": datetime.date.today().isoformat()}
    try:
        import numba
        import tomotopy
        info.update(numba=numba.__version__, tomotopy=tomotopy.__version__,
                    tomotopy_isa=tomotopy.isa)
    except ImportError:
        pass
    return info


def open_corpus(args):
    from lla import Corpus
    if args.corpus:
        return Corpus.open(args.corpus)
    out = os.path.join(args.work, "wiki")
    if not os.path.isdir(out):
        subprocess.run([sys.executable, "-m", "lla", "prepare", "--preset", "wiki", args.raw,
                        "--out", out], check=True)
    return Corpus.open(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--corpus", help="prepared corpus directory (lla prepare --preset wiki)")
    src.add_argument("--raw", help="WikiExtractor .xz file to prepare into --work")
    p.add_argument("--work", default="bench-work", help="where --raw is prepared")
    p.add_argument("--topics", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--sweeps", type=int, default=50, help="timing sweeps for every library")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--samplers", nargs="+", default=["auto"],
                   help="lla samplers to time (auto, exact, mh)")
    p.add_argument("--exact-max-k", type=int, default=200,
                   help="time lla's O(K) exact sampler only up to this K")
    p.add_argument("--lda-package-max-sweeps", type=int, default=10,
                   help="cap on the `lda` package's sweeps for K > 200 (it is O(K) per token)")
    p.add_argument("--quality-sweeps", type=int, default=200,
                   help="separate 1-thread run at the first K for perplexity (0: skip)")
    p.add_argument("--peers", nargs="*", default=["tomotopy", "lda"])
    p.add_argument("--json", help="write all results here")
    args = p.parse_args(argv)

    corpus = open_corpus(args)
    info = machine()
    log(f"corpus: {corpus}; machine: {info}")
    results = {"machine": info, "corpus": str(corpus.path), "alpha": ALPHA, "beta": BETA,
               "sweeps": args.sweeps, "timing": [], "quality": []}
    rows = results["timing"]
    for K in args.topics:
        for sampler in args.samplers:
            if sampler == "exact" and K > args.exact_max_k:
                log(f"lla K={K} sampler=exact skipped (K > --exact-max-k)")
                continue
            for T in args.threads:
                log(f"lla K={K} sampler={sampler} threads={T} ...")
                _, r = run_lla(corpus, K, args.sweeps, T, sampler)
                rows.append({"library": f"lla ({sampler})", "K": K, "threads": T,
                             "sweeps": args.sweeps, **r})
                log("   ", rows[-1])
        if "tomotopy" in args.peers:
            for T in args.threads:
                log(f"tomotopy K={K} workers={T} ...")
                r = run_tomotopy(corpus, K, args.sweeps, T)
                rows.append({"library": "tomotopy", "K": K, "threads": T,
                             "sweeps": args.sweeps, **r})
                log("   ", rows[-1])
        if "lda" in args.peers:
            sweeps = args.sweeps if K <= 200 else min(args.sweeps, args.lda_package_max_sweeps)
            log(f"lda package K={K} sweeps={sweeps} ...")
            r = run_lda_package(corpus, K, sweeps)
            rows.append({"library": "lda package", "K": K, "threads": 1, **r})
            log("   ", rows[-1])
    if args.quality_sweeps:
        K, n = args.topics[0], args.quality_sweeps
        log(f"quality: lla K={K} {n} sweeps ...")
        _, r = run_lla(corpus, K, n, 1, args.samplers[0], n_average=20)
        results["quality"].append({"library": f"lla ({args.samplers[0]})", "K": K, "sweeps": n,
                                   **r})
        log("   ", results["quality"][-1])
        if "tomotopy" in args.peers:
            log(f"quality: tomotopy K={K} {n} sweeps ...")
            r = run_tomotopy(corpus, K, n, 1, n_average=20)
            results["quality"].append({"library": "tomotopy", "K": K, "sweeps": n, **r})
            log("   ", results["quality"][-1])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    print(report(results))
    return 0


def report(results):
    """Markdown tables with ratios to tomotopy at one worker."""
    lines = ["| K | library | threads | sweeps | tokens/s | vs tomotopy 1 worker | held-out PPL |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for row in results["timing"]:
        ref = [r for r in results["timing"] if r["K"] == row["K"]
               and r["library"] == "tomotopy" and r["threads"] == 1]
        ratio = f"{row['tokens_per_second'] / ref[0]['tokens_per_second']:.2f}×" if ref else "–"
        lines.append(f"| {row['K']} | {row['library']} | {row['threads']} | {row['sweeps']} | "
                     f"{row['tokens_per_second'] / 1e6:.2f}M | {ratio} | {row['perplexity']:.1f} |")
    if results["quality"]:
        lines += ["", "| K | library | sweeps | PPL (last state) | PPL (θ, φ averaged over last 20) "
                      "| wall s |", "|---:|---|---:|---:|---:|---:|"]
        for row in results["quality"]:
            avg = row.get("perplexity_averaged")
            lines.append(f"| {row['K']} | {row['library']} | {row['sweeps']} | "
                         f"{row['perplexity']:.1f} | {'–' if avg is None else f'{avg:.1f}'} | "
                         f"{row['wall_seconds']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
