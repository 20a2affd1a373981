"""LDA: lla against tomotopy and the `lda` package on the same corpus, in the same run.

For every K, every lla sampler and every --threads value T, lla (T shards) and tomotopy
(T workers) are trained side by side, **interleaved sweep by sweep** (one lla sweep, then one
tomotopy sweep, from lla's fit callback), so that both see the same machine load.  Reported:
training-prefix tokens per second per sweep (median over the timing sweeps, the first two
skipped; --stat best takes the fastest sweep instead, steadier on a shared machine), the ratio
to tomotopy's single worker at the same K (from the T = 1 pairing), and every model's held-out
perplexity under lla's protocol (DESIGN §3, document completion: θ_d from the library's
doc-topic state of the prefix, φ from its topic-word state, suffix tokens scored by
lla.evaluation.perplexity) after the same sweeps.  The `lda` package (one thread) runs on its
own.  With --quality-sweeps > 0 a separate single-thread pairing at the first K trains lla and
tomotopy for that many sweeps and reports perplexity of the last state and averaged over the
last 20 sweeps.

    python benchmarks/lda_vs_peers.py --corpus wiki --topics 100 1000 --sweeps 50 \
        --samplers exact mh --quality-sweeps 200 --json results.json

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


def brief(row):
    """A result row without its per-sweep times, for the log."""
    return {k: v for k, v in row.items() if k != "sweep_seconds"}


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


def sweep_rate(seconds, n_tokens, stat="median"):
    """Tokens per second of one sweep: median (first two sweeps skipped when there are more
    than four) or best over the timed sweeps."""
    if stat == "best":
        return n_tokens / min(seconds)
    tail = seconds[2:] if len(seconds) > 4 else seconds
    return n_tokens / statistics.median(tail)


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


class TomotopyRun:
    """tomotopy trained one timed sweep at a time (``step``), θ and φ averaged over the last
    ``n_average`` of ``sweeps`` sweeps when asked."""

    def __init__(self, corpus, K, sweeps, workers, n_average=0):
        self.corpus, self.sweeps, self.workers, self.n_average = corpus, sweeps, workers, n_average
        self.model = tomotopy_model(corpus, K)
        self.seconds, self.done = [], 0
        self.sum_theta, self.sum_phi, self.n_sum = 0.0, 0.0, 0

    def step(self):
        t0 = time.perf_counter()
        self.model.train(1, workers=self.workers)
        self.seconds.append(time.perf_counter() - t0)
        self.done += 1
        if self.n_average and self.done > self.sweeps - self.n_average:
            theta, phi = tomotopy_state(self.model, self.corpus)
            self.sum_theta, self.sum_phi = self.sum_theta + theta, self.sum_phi + phi
            self.n_sum += 1

    def result(self, stat):
        theta, phi = tomotopy_state(self.model, self.corpus)
        out = {"tokens_per_second": sweep_rate(self.seconds, self.corpus.n_prefix_tokens, stat),
               "wall_seconds": sum(self.seconds), "sweeps": self.done,
               "sweep_seconds": list(self.seconds),
               "perplexity": heldout_perplexity(self.corpus, theta, phi),
               "perplexity_averaged": None}
        if self.n_sum:
            out["perplexity_averaged"] = heldout_perplexity(
                self.corpus, self.sum_theta / self.n_sum, self.sum_phi / self.n_sum)
        return out


# -- lla (with tomotopy interleaved) -------------------------------------------------------------
def sampler_name(model):
    """The sampler an lla.LDA used ("auto" resolved)."""
    from lla._kernels.gibbs import SAMPLERS
    return {code: name for name, code in SAMPLERS.items()}[model._sampler_code()]


def run_pair(corpus, K, sweeps, threads, sampler, peer=True, n_average=0, stat="median"):
    """lla with ``threads`` shards; if ``peer``, one tomotopy sweep (``threads`` workers) after
    every lla sweep.  Returns (lla result, tomotopy result or None)."""
    from lla import LDA
    seconds = []
    tomo = TomotopyRun(corpus, K, sweeps, threads, n_average) if peer else None

    def callback(model, sweep, stats):
        seconds.append(stats["seconds"])
        if tomo is not None:
            tomo.step()

    model = LDA(K, alpha=ALPHA, beta=BETA, n_iter=sweeps, n_average=n_average, sampler=sampler,
                n_threads=threads, random_state=1, evaluate_every=10**9, show_progress=False)
    model.fit(corpus, callback=callback)
    theta, phi = theta_phi_from_counts(model.n_dk_, model.n_wk_, corpus.prefix_lengths)
    mine = {"tokens_per_second": sweep_rate(seconds, corpus.n_prefix_tokens, stat),
            "wall_seconds": sum(seconds), "sweeps": len(seconds), "sweep_seconds": seconds,
            "sampler_used": sampler_name(model),
            "perplexity": heldout_perplexity(corpus, theta, phi),
            "perplexity_averaged": (model.perplexity(corpus) if n_average else None)}
    return mine, (tomo.result(stat) if tomo is not None else None)


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
        with open("/proc/cpuinfo") as f:
            for line in f:
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
                   help="lla samplers to time (auto, exact, mh); the first is used for quality")
    p.add_argument("--exact-max-k", type=int, default=1000,
                   help="time lla's O(K) exact sampler only up to this K")
    p.add_argument("--stat", choices=["median", "best"], default="median",
                   help="per-sweep statistic for tokens/s (best: steadier on a shared machine)")
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
               "sweeps": args.sweeps, "stat": args.stat, "timing": [], "quality": []}
    rows = results["timing"]
    peer = "tomotopy" in args.peers
    for K in args.topics:
        for sampler in args.samplers:
            if sampler == "exact" and K > args.exact_max_k:
                log(f"lla K={K} sampler=exact skipped (K > --exact-max-k)")
                continue
            for T in args.threads:
                log(f"lla K={K} sampler={sampler} threads={T}"
                    + (f", tomotopy workers={T} interleaved" if peer else "") + " ...")
                mine, tomo = run_pair(corpus, K, args.sweeps, T, sampler, peer=peer,
                                      stat=args.stat)
                rows.append({"library": f"lla ({sampler})", "K": K, "threads": T, **mine})
                log("   ", brief(rows[-1]))
                if tomo is not None:
                    rows.append({"library": "tomotopy", "K": K, "threads": T,
                                 "paired_with": f"lla ({sampler})", **tomo})
                    log("   ", brief(rows[-1]))
        if "lda" in args.peers:
            sweeps = args.sweeps if K <= 200 else min(args.sweeps, args.lda_package_max_sweeps)
            log(f"lda package K={K} sweeps={sweeps} ...")
            r = run_lda_package(corpus, K, sweeps)
            rows.append({"library": "lda package", "K": K, "threads": 1, **r})
            log("   ", brief(rows[-1]))
    if args.quality_sweeps:
        K, n = args.topics[0], args.quality_sweeps
        log(f"quality: lla K={K} sampler={args.samplers[0]}, {n} sweeps"
            + (", tomotopy interleaved" if peer else "") + " ...")
        mine, tomo = run_pair(corpus, K, n, 1, args.samplers[0], peer=peer, n_average=20,
                              stat=args.stat)
        results["quality"].append({"library": f"lla ({args.samplers[0]})", "K": K, **mine})
        log("   ", brief(results["quality"][-1]))
        if tomo is not None:
            results["quality"].append({"library": "tomotopy", "K": K, **tomo})
            log("   ", brief(results["quality"][-1]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    print(report(results))
    return 0


def _find(rows, **keys):
    for r in rows:
        if all(r.get(k) == v for k, v in keys.items()):
            return r
    return None


def report(results):
    """Markdown tables: rates, the ratio to tomotopy's single worker trained alongside (same K,
    interleaved with the same lla sampler), the speed-up over the same library's one-thread
    run, and held-out perplexity after the timed sweeps."""
    rows = results["timing"]
    lines = [(f"tokens/s: {results.get('stat', 'median')} over the timed sweeps; lla and "
              "tomotopy interleaved sweep by sweep"), "",
             ("| K | library | threads | sweeps | tokens/s | vs tomotopy 1 worker "
              "| vs own 1 thread | held-out PPL |"),
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        pairing = row.get("paired_with", row["library"])   # which lla sampler ran alongside
        ref = (_find(rows, K=row["K"], library="tomotopy", threads=1, paired_with=pairing)
               or _find(rows, K=row["K"], library="tomotopy", threads=1))
        own = _find(rows, K=row["K"], library=row["library"], threads=1,
                    paired_with=row.get("paired_with"))
        ratio = f"{row['tokens_per_second'] / ref['tokens_per_second']:.2f}×" if ref else "–"
        scale = (f"{row['tokens_per_second'] / own['tokens_per_second']:.2f}×"
                 if own and row["threads"] != 1 else "–")
        name = row["library"] + (f", alongside {pairing}" if "paired_with" in row else "")
        lines.append(f"| {row['K']} | {name} | {row['threads']} | {row['sweeps']} | "
                     f"{row['tokens_per_second'] / 1e6:.2f}M | {ratio} | {scale} | "
                     f"{row['perplexity']:.1f} |")
    if results["quality"]:
        lines += ["", ("| K | library | sweeps | PPL (last state) "
                       "| PPL (θ, φ averaged over last 20) | sampling s |"),
                  "|---:|---|---:|---:|---:|---:|"]
        for row in results["quality"]:
            avg = row.get("perplexity_averaged")
            lines.append(f"| {row['K']} | {row['library']} | {row['sweeps']} | "
                         f"{row['perplexity']:.1f} | {'–' if avg is None else f'{avg:.1f}'} | "
                         f"{row['wall_seconds']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
