"""1 vs N processes (torchrun, gloo, one thread each): topic-LLA's SE-step, LSTM epoch, SEM
iteration, scoring and LDA sweep, and the perplexity of both models (docs/benchmarks.md,
"Several processes").

    python benchmarks/distributed.py CORPUS [--configs 1 2 2:64] [--repeats 2] [--topics 50]
        [--iterations 4] [--lda-iterations 100] [--init-lstm-epochs 2] [--lstm-epochs 1]
        [--batch-size 32] [--json OUT.json]

A configuration is N (processes) or N:B (processes and --batch-size B, e.g. 2:64 to keep 32
documents per rank and step); each is a fresh ``torchrun --standalone --nproc-per-node N`` job
(N = 1 takes the one-process code path) with ``OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 --threads
1`` per process; the configurations are interleaved (1, 2, 1, 2, ...) so that a machine shared
with other work disturbs them alike, and the medians over repeats are reported.  Wall times come
from the model's history (``se_seconds`` = the slowest rank's SE-step, ``lstm_seconds``,
``sync_seconds`` = the V×K count all-reduce + the gather of z), from the callback (SEM
iteration) and around scoring; CPU seconds (``time.process_time``, the largest over the ranks)
of the SE-step and of an LSTM epoch come from wrappers around lla's functions, installed by this
script only: on a loaded machine they show how the *work* splits when wall times mostly show
the load.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(function, record):
    """``function`` that appends (wall s, process CPU s) of every call to ``record``."""
    def wrapper(*a, **k):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*a, **k)
        finally:
            record.append((time.perf_counter() - wall, time.process_time() - cpu))
    return wrapper


def worker(args):
    import numpy as np

    from lla import Corpus, TopicLLA, distributed
    from lla._kernels import gibbs
    from lla.inference import sem
    from lla.models import topic_lla

    distributed.init()
    corpus = Corpus.open(args.corpus)
    marks, se_calls, lstm_calls, sweep_calls, score_calls = [], [], [], [], []
    model = TopicLLA(args.topics, n_iter=args.iterations, init_lda_iter=args.lda_iterations,
                     init_lstm_epochs=args.init_lstm_epochs, batch_size=args.batch_size,
                     lstm_epochs_per_iter=args.lstm_epochs, n_threads=1, random_state=args.seed,
                     show_progress=False)
    se_fn = model._se_step_fn()
    model._se_step_fn = lambda: _timed(se_fn, se_calls)
    # the M-steps of the SEM iterations (the initial LSTM fit calls them through another name)
    sem.fit_lstm = _timed(sem.fit_lstm, lstm_calls)
    sem.fit_lstm_sharded = _timed(sem.fit_lstm_sharded, lstm_calls)
    gibbs.lda_sweep = _timed(gibbs.lda_sweep, sweep_calls)   # compute only, not the all-reduce
    topic_lla.particle_filter_log_prob = _timed(topic_lla.particle_filter_log_prob, score_calls)
    start = time.perf_counter()
    model.fit(corpus, callback=lambda m, it, stats: marks.append(time.perf_counter()))
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ppl = model.perplexity(corpus)
    scoring_seconds = time.perf_counter() - start
    peak = distributed.all_reduce(np.array([resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024.0]), "max")[0]
    epochs = max(args.lstm_epochs, 1)
    cpu = distributed.all_reduce(np.array([
        statistics.median(c for _, c in se_calls),
        statistics.median(c for _, c in lstm_calls) / epochs,
        statistics.median(c for _, c in sweep_calls),
        sum(c for _, c in score_calls)]), "max")
    if not distributed.is_writer():
        distributed.exit_process(0)
    init, iters = model.history_[0], model.history_[1:]
    result = {
        "processes": distributed.world_size(),
        "batch_size": args.batch_size,
        "se_cpu_seconds": float(cpu[0]),
        "lstm_epoch_cpu_seconds": float(cpu[1]),
        "lda_sweep_cpu_seconds": float(cpu[2]),
        "scoring_cpu_seconds": float(cpu[3]),
        "prefix_tokens": corpus.n_prefix_tokens,
        "lda_sweep_seconds": init["lda_seconds"] / args.lda_iterations,
        "init_lstm_epoch_seconds": init["lstm_seconds"] / max(args.init_lstm_epochs, 1),
        "se_seconds": statistics.median(h["se_seconds"] for h in iters),
        "sync_seconds": statistics.median(h.get("sync_seconds", 0.0) for h in iters),
        "lstm_epoch_seconds": statistics.median(h["lstm_seconds"] for h in iters)
        / max(args.lstm_epochs, 1),
        "iteration_seconds": statistics.median(np.diff(marks)) if len(marks) > 1 else None,
        "fit_seconds": fit_seconds,
        "scoring_seconds": scoring_seconds,
        "perplexity": ppl,
        "peak_rss_mb_max_rank": float(peak),
    }
    Path(args.json).write_text(json.dumps(result))
    distributed.exit_process(0)


def run_config(args, config, out):
    n, _, batch = config.partition(":")
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc-per-node={n}", __file__, "--worker", "--json", out, args.corpus,
           "--batch-size", batch or str(args.batch_size),
           "--topics", str(args.topics), "--iterations", str(args.iterations),
           "--lda-iterations", str(args.lda_iterations),
           "--init-lstm-epochs", str(args.init_lstm_epochs),
           "--lstm-epochs", str(args.lstm_epochs), "--seed", str(args.seed)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"configuration {config} failed:\n{proc.stderr[-4000:]}")
    return json.loads(Path(out).read_text())


ROWS = [("LDA sweep (s)", "lda_sweep_seconds"),
        ("LDA sweep, CPU s of the busiest rank (without the all-reduce)",
         "lda_sweep_cpu_seconds"),
        ("SE-step (s)", "se_seconds"),
        ("SE-step, CPU s of the busiest rank", "se_cpu_seconds"),
        ("count all-reduce + gather z (s)", "sync_seconds"),
        ("LSTM epoch (s)", "lstm_epoch_seconds"),
        ("LSTM epoch, CPU s of the busiest rank", "lstm_epoch_cpu_seconds"),
        ("SEM iteration (s)", "iteration_seconds"),
        ("scoring, particle filter S=16 (s)", "scoring_seconds"),
        ("scoring, CPU s of the busiest rank", "scoring_cpu_seconds"),
        ("whole fit (s)", "fit_seconds"), ("held-out perplexity", "perplexity"),
        ("peak RSS of a rank (MB)", "peak_rss_mb_max_rank")]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json")
    ap.add_argument("--configs", nargs="+", default=["1", "2"],
                    help="N or N:BATCH (processes, and --batch-size for that configuration)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--topics", type=int, default=50)
    ap.add_argument("--iterations", type=int, default=4)
    ap.add_argument("--lda-iterations", type=int, default=100)
    ap.add_argument("--init-lstm-epochs", type=int, default=2)
    ap.add_argument("--lstm-epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    configs = args.configs
    runs = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            for c in configs:
                r = run_config(args, c, str(Path(tmp) / f"{c.replace(':', '-')}-{rep}.json"))
                runs[c].append(r)
                print(f"# repeat {rep}, configuration {c}: {json.dumps(r)}", flush=True)
    med = {c: {k: statistics.median(r[k] for r in rs if r[k] is not None)
               for k in rs[0]} for c, rs in runs.items()}
    print(f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}; {time.strftime('%Y-%m-%d %H:%M')}; corpus "
          f"{args.corpus} ({int(med[configs[0]]['prefix_tokens']):,} prefix tokens); topic-LLA K="
          f"{args.topics}, E=H=128, {args.lda_iterations} LDA sweeps, {args.init_lstm_epochs}"
          f"+{args.iterations}×{args.lstm_epochs} LSTM epochs; median of {args.repeats}\n")
    base = configs[0]
    head = " | ".join(f"{int(med[c]['processes'])} proc., batch {int(med[c]['batch_size'])}"
                      for c in configs)
    print(f"| | {head} | " + " | ".join(f"speed-up {c}" for c in configs[1:]) + " |")
    print("|---|" + "---:|" * (2 * len(configs) - 1))
    for label, key in ROWS:
        vals = [med[c][key] for c in configs]
        cells = " | ".join(f"{v:,.3f}" if v < 100 else f"{v:,.1f}" for v in vals)
        ups = " | ".join("" if key in ("perplexity", "peak_rss_mb_max_rank", "sync_seconds")
                         else f"{med[base][key] / med[c][key]:.2f}" for c in configs[1:])
        print(f"| {label} | {cells} | {ups} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": {str(k): v for k, v in runs.items()},
                                               "args": vars(args)}, indent=2))


if __name__ == "__main__":
    main()
