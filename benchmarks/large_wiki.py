"""End to end on the large Wikipedia file (~16.3M words) against the 3.2M-token wiki benchmark
corpus: prepare, LDA K=100, topic-LLA K=100 with a budget fixed in advance; seconds and peak
memory of every step; is every step linear in tokens?  (Issue 13, docs/benchmarks.md.)

    python benchmarks/large_wiki.py                      # the whole measurement (hours of CPU)
    python benchmarks/large_wiki.py --slice-articles 20 --lda-sweeps 5 --init-lda-sweeps 5 \\
        --iterations 1 --out /tmp/large-wiki-smoke     # a quick check of the script itself

Inputs (``--data``, default ../shared/data): ``enwiki-2015-wikiextractor/enwiki-AA-00-19.txt.xz``
(the ``wiki`` benchmark corpus, 3.2M tokens) and ``enwiki-2015-large/enwiki-AB-00-99.txt.xz``
(16.3M tokens), both prepared with the ``wiki`` preset's rules (``lla prepare --preset wiki``).
``--slice-articles N`` keeps the first N articles of each file (to test the script).

Every step runs in a fresh process (``--processes N`` > 1: a torchrun job of N processes, one
thread each, rank 0 reporting and the peak memory the largest of the ranks), so that its peak
resident memory is its own:

* prepare — seconds, peak RSS (``ru_maxrss``);
* LDA — K=100, ``--lda-sweeps`` sweeps (exact sampler, one thread): seconds per sweep, peak RSS,
  held-out perplexity (document completion) and scoring seconds;
* topic-LLA — K=100, E=H=128: LDA start of ``--init-lda-sweeps`` sweeps, ``--init-lstm-epochs``
  LSTM epochs on LDA's z, ``--iterations`` SEM iterations of one SE-step + ``--lstm-epochs``
  epochs, ``--batch-size`` documents per minibatch; seconds of the LDA start, of an LSTM epoch,
  of an SE-step and of a SEM iteration, and particle-filter scoring (S=16) of all tokens; peak
  RSS of each phase from a sampler thread reading /proc/self/statm every 50 ms.

The budget is fixed in advance by the defaults below; the suffixes are only reported.  Results:
``OUT/results.json`` and a markdown table on stdout (per step: both corpora, seconds per
million tokens, and the large/wiki time ratio divided by the token ratio: 1.0 = linear).
"""

import argparse
import itertools
import json
import lzma
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = {
    "wiki": "enwiki-2015-wikiextractor/enwiki-AA-00-19.txt.xz",
    "wiki-large": "enwiki-2015-large/enwiki-AB-00-99.txt.xz",
}


# -- memory -------------------------------------------------------------------------------------
def rss_mb():
    """Resident set size of this process now (MB), from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class RssSampler(threading.Thread):
    """(time, RSS MB, process CPU seconds) every ``interval`` seconds until ``stop()``;
    ``peak(t0, t1)`` and ``cpu(t0, t1)`` (CPU seconds of all the process's threads between two
    ``perf_counter`` times: on a shared machine the wall time includes waiting for a core, the
    CPU time does not)."""

    def __init__(self, interval=0.05):
        super().__init__(daemon=True)
        self.interval, self.samples, self._done = interval, [], threading.Event()

    def run(self):
        while not self._done.is_set():
            self.samples.append((time.perf_counter(), rss_mb(), time.process_time()))
            self._done.wait(self.interval)

    def stop(self):
        self._done.set()
        self.join()

    def peak(self, t0, t1):
        inside = [r for t, r, _ in self.samples if t0 <= t <= t1]
        return max(inside) if inside else None

    def cpu(self, t0, t1):
        inside = [c for t, _, c in self.samples if t0 <= t <= t1]
        return inside[-1] - inside[0] if len(inside) > 1 else None


# -- steps (each in its own process) ------------------------------------------------------------
def step_prepare(args):
    from lla.data.build import prepare, preset
    start = time.perf_counter()
    corpus = prepare([args.input], args.corpus, preset("wiki"), force=True,
                     show_progress=False)
    return {"seconds": time.perf_counter() - start, "n_docs": len(corpus),
            "n_tokens": corpus.n_tokens, "n_prefix_tokens": corpus.n_prefix_tokens,
            "vocab_size": corpus.n_types, "peak_rss_mb": peak_mb()}


def _reduce_peak(value):
    import numpy as np

    from lla import distributed
    return float(distributed.all_reduce(np.array([value if value is not None else 0.0]),
                                        "max")[0])


def step_lda(args):
    from lla import LDA, Corpus, distributed
    distributed.init()
    corpus = Corpus.open(args.corpus)
    sweeps = []
    start, cpu_start = time.perf_counter(), time.process_time()
    model = LDA(args.topics, n_iter=args.lda_sweeps, n_threads=1, random_state=args.seed,
                sampler="exact", show_progress=False)
    model.fit(corpus, callback=lambda m, s, st: sweeps.append(st["seconds"]))
    fit, fit_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    start = time.perf_counter()
    ppl = model.perplexity(corpus)
    scoring = time.perf_counter() - start
    return {"fit_seconds": fit, "fit_cpu_seconds": fit_cpu,
            "sweep_seconds": sorted(sweeps)[len(sweeps) // 2],
            "perplexity": ppl, "scoring_seconds": scoring, "processes": distributed.world_size(),
            "peak_rss_mb": _reduce_peak(peak_mb())}


def step_topic_lla(args):
    from lla import Corpus, TopicLLA, distributed
    distributed.init()
    corpus = Corpus.open(args.corpus)
    sampler = RssSampler()
    sampler.start()
    marks = []
    model = TopicLLA(args.topics, n_iter=args.iterations, init_lda_iter=args.init_lda_sweeps,
                     init_lstm_epochs=args.init_lstm_epochs,
                     lstm_epochs_per_iter=args.lstm_epochs, batch_size=args.batch_size,
                     n_threads=1, random_state=args.seed, show_progress=False)
    t0 = time.perf_counter()
    model.fit(corpus, callback=lambda m, it, st: marks.append(time.perf_counter()))
    t1 = time.perf_counter()
    ppl = model.perplexity(corpus)
    t2 = time.perf_counter()
    sampler.stop()
    h0, iters = model.history_[0], model.iteration_history()[1:]   # SEM iterations only
    lda_end = t0 + h0["lda_seconds"]
    prev = lda_end + h0["lstm_seconds"]
    phases = {"lda_start": (t0, lda_end), "lstm_on_lda_z": (lda_end, prev)}
    se, lstm = [], []
    for i, (h, mark) in enumerate(zip(iters, marks), start=1):
        se_end = prev + h["se_seconds"] + h.get("sync_seconds", 0.0)
        phases[f"iteration_{i}_se_step"] = (prev, se_end)
        phases[f"iteration_{i}_lstm"] = (se_end, mark)
        se.append(h["se_seconds"])
        lstm.append(h["lstm_seconds"] / max(args.lstm_epochs, 1))
        prev = mark
    phases["scoring"] = (t1, t2)
    peaks = {name: _reduce_peak(sampler.peak(*span)) for name, span in phases.items()}
    cpu = {name: sampler.cpu(*span) for name, span in phases.items()}
    # wall time between the ends of consecutive iterations (one iteration: its parts)
    iteration = [b - a for a, b in itertools.pairwise(marks)] or [
        h["se_seconds"] + h.get("sync_seconds", 0.0) + h["lstm_seconds"] for h in iters]
    return {"lda_start_seconds": h0["lda_seconds"],
            "lda_start_sweep_seconds": h0["lda_seconds"] / args.init_lda_sweeps,
            "lstm_epoch_seconds": (sorted(lstm) or [h0["lstm_seconds"]
                                                    / max(args.init_lstm_epochs, 1)])[0],
            "init_lstm_epoch_seconds": h0["lstm_seconds"] / max(args.init_lstm_epochs, 1),
            "se_step_seconds": min(se) if se else None,
            "sem_iteration_seconds": min(iteration) if iteration else None,
            "fit_seconds": t1 - t0, "scoring_seconds": t2 - t1, "perplexity": ppl,
            "processes": distributed.world_size(), "peak_rss_mb_by_phase": peaks,
            "cpu_seconds_by_phase": cpu,
            "peak_rss_mb": _reduce_peak(peak_mb())}


STEPS = {"prepare": step_prepare, "lda": step_lda, "topic-lla": step_topic_lla}


def child(args):
    result = STEPS[args.child](args)
    from lla import distributed
    if distributed.is_writer():
        Path(args.result).write_text(json.dumps(result))
    distributed.exit_process(0)  # skips finalization, where gloo's threads can abort


# -- driver -------------------------------------------------------------------------------------
def slice_articles(source, target, n_articles):
    """The first ``n_articles`` <doc>…</doc> blocks of a WikiExtractor .xz file, as plain text."""
    kept = 0
    with lzma.open(source, "rt", encoding="utf-8") as f, open(target, "w", encoding="utf-8") as g:
        for line in f:
            g.write(line)
            if line.startswith("</doc>"):
                kept += 1
                if kept >= n_articles:
                    break
    return target


def run_step(args, step, corpus, result, processes=1, extra=()):
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    launcher = [sys.executable] if processes == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc-per-node={processes}"]
    cmd = [*launcher, __file__, "--child", step, "--corpus", str(corpus), "--result",
           str(result), *extra, *[str(a) for a in args.budget]]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"step {step} on {corpus} failed:\n{proc.stderr[-4000:]}")
    out = json.loads(Path(result).read_text())
    out["wall_seconds"] = time.perf_counter() - start
    print(f"# {corpus.name} {step}: {json.dumps(out)}", flush=True)
    return out


def budget_flags(args):
    return ["--topics", args.topics, "--lda-sweeps", args.lda_sweeps, "--init-lda-sweeps",
            args.init_lda_sweeps, "--init-lstm-epochs", args.init_lstm_epochs, "--iterations",
            args.iterations, "--lstm-epochs", args.lstm_epochs, "--batch-size",
            args.batch_size, "--seed", args.seed]


ROWS = [("prepare (s)", "prepare", "seconds"),
        ("prepare peak RSS (MB)", "prepare", "peak_rss_mb"),
        ("LDA sweep (s)", "lda", "sweep_seconds"),
        ("LDA peak RSS (MB)", "lda", "peak_rss_mb"),
        ("LDA held-out perplexity", "lda", "perplexity"),
        ("topic-LLA: LDA start, per sweep (s)", "topic-lla", "lda_start_sweep_seconds"),
        ("topic-LLA: LSTM epoch (s)", "topic-lla", "lstm_epoch_seconds"),
        ("topic-LLA: SE-step (s)", "topic-lla", "se_step_seconds"),
        ("topic-LLA: SEM iteration (s)", "topic-lla", "sem_iteration_seconds"),
        ("topic-LLA: scoring, S=16 (s)", "topic-lla", "scoring_seconds"),
        ("topic-LLA peak RSS (MB)", "topic-lla", "peak_rss_mb"),
        ("topic-LLA held-out perplexity", "topic-lla", "perplexity")]


def table(results):
    names = [n for n in CORPORA if n in results]
    tokens = {n: results[n]["prepare"]["n_tokens"] for n in names}
    print("\n| step | " + " | ".join(f"{n} ({tokens[n] / 1e6:.2f}M tokens)" for n in names)
          + " | " + " | ".join(f"{n} per M tokens" for n in names)
          + " | time ratio ÷ token ratio |")
    print("|---|" + "---:|" * (2 * len(names) + 1))
    for label, step, key in ROWS:
        vals = [results[n][step].get(key) for n in names]
        cells = " | ".join("–" if v is None else f"{v:,.2f}" for v in vals)
        timed = key.endswith("seconds") and None not in vals
        per = " | ".join(f"{v / (tokens[n] / 1e6):,.3f}" if timed else ""
                         for v, n in zip(vals, names))
        ratio = ""
        if timed and len(names) == 2 and vals[0]:
            ratio = f"{(vals[1] / vals[0]) / (tokens[names[1]] / tokens[names[0]]):.2f}"
        print(f"| {label} | {cells} | {per} | {ratio} |")
    for n in names:
        print(f"\n{n}: topic-LLA peak RSS by phase (MB): "
              + ", ".join(f"{k} {v:,.0f}" for k, v in
                          results[n]["topic-lla"]["peak_rss_mb_by_phase"].items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", choices=sorted(STEPS), help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "large-wiki"))
    ap.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA))
    ap.add_argument("--slice-articles", type=int, help="keep the first N articles of each file")
    ap.add_argument("--processes", type=int, default=1,
                    help="processes (torchrun) of the LDA and topic-LLA steps")
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--lda-sweeps", type=int, default=200)
    ap.add_argument("--init-lda-sweeps", type=int, default=200)
    ap.add_argument("--init-lstm-epochs", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--lstm-epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.child:
        return child(args)
    args.budget = budget_flags(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.corpora:
        source = Path(args.data) / CORPORA[name]
        if args.slice_articles:
            source = slice_articles(source, out / f"{name}-slice.txt", args.slice_articles)
        corpus = out / name
        res = {"prepare": run_step(args, "prepare", corpus, out / f"{name}-prepare.json",
                                   extra=["--input", source])}
        for step in ("lda", "topic-lla"):
            res[step] = run_step(args, step, corpus, out / f"{name}-{step}.json",
                                 processes=args.processes)
        results[name] = res
    meta = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
            "date": time.strftime("%Y-%m-%d %H:%M"), "load_average": os.getloadavg(),
            "budget": {k: v for k, v in vars(args).items() if k != "budget"}}
    (out / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"\nMachine: {meta['machine']}; {meta['date']}; load average {meta['load_average']}; "
          f"{args.processes} process(es), one thread each")
    table(results)


if __name__ == "__main__":
    main()
