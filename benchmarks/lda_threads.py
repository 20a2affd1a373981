"""Thread scaling of lla.LDA against tomotopy's, at one K on one corpus, in one run:

    python benchmarks/lda_threads.py CORPUS_DIR [--topics 100] [--samplers exact mh]
        [--sweeps 8] [--repeats 2] [--stat best]

Every repeat runs T = 1 then T = 2 (so a load change hits both): for each lla sampler an
``LDA(K, n_threads=T)`` fit of --sweeps sweeps, and interleaved with the first sampler's fit
(one sweep each, from lla's callback) a tomotopy model trained with T workers.  Per-sweep
rates (training-prefix tokens / seconds of one sweep, the first sweep skipped) are pooled over
the repeats; the table gives the --stat (best or median) rate and the 2-thread speed-up of
each library.  CORPUS_DIR: ``lla prepare --preset wiki
../shared/data/enwiki-2015-wikiextractor/enwiki-AA-00-19.txt.xz --out CORPUS_DIR``.
"""

import argparse
import statistics
import sys

from lda_vs_peers import ALPHA, BETA, TomotopyRun, log, machine, sampler_name


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", help="prepared corpus directory")
    p.add_argument("--topics", type=int, default=100)
    p.add_argument("--samplers", nargs="+", default=["exact", "mh"])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--sweeps", type=int, default=8)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--stat", choices=["best", "median"], default="best")
    p.add_argument("--no-tomotopy", action="store_true")
    args = p.parse_args(argv)

    import lla
    corpus = lla.Corpus.open(args.corpus)
    N, K = corpus.n_prefix_tokens, args.topics
    log(f"corpus: {corpus}; machine: {machine()}")
    seconds = {}                                   # (library, T) -> per-sweep seconds
    for rep in range(args.repeats):
        for T in args.threads:
            for j, sampler in enumerate(args.samplers):
                tomo = None
                if j == 0 and not args.no_tomotopy:
                    tomo = TomotopyRun(corpus, K, args.sweeps, T)
                mine = []

                def callback(model, sweep, stats, mine=mine, tomo=tomo):
                    mine.append(stats["seconds"])
                    if tomo is not None:
                        tomo.step()

                model = lla.LDA(K, alpha=ALPHA, beta=BETA, n_iter=args.sweeps, n_average=0,
                                sampler=sampler, n_threads=T, random_state=rep,
                                evaluate_every=10**9, show_progress=False)
                model.fit(corpus, callback=callback)
                name = f"lla ({sampler_name(model)})"
                seconds.setdefault((name, T), []).extend(mine[1:])
                if tomo is not None:
                    seconds.setdefault(("tomotopy", T), []).extend(tomo.seconds[1:])
            log(f"repeat {rep} T={T}:", {f"{lib} T={t}": f"{N / min(v) / 1e6:.2f}M"
                                         for (lib, t), v in seconds.items()})

    def rate(v):
        return N / (min(v) if args.stat == "best" else statistics.median(v))

    libraries = list(dict.fromkeys(lib for lib, _ in seconds))
    head = " | ".join(f"{T} thread{'s' * (T > 1)}" for T in args.threads)
    print(f"K = {K}, {args.sweeps} sweeps × {args.repeats} repeats, tokens/s = {args.stat} "
          f"per-sweep rate\n\n| library | {head} | {args.threads[-1]} / {args.threads[0]} |\n"
          f"|---|{'---:|' * (len(args.threads) + 1)}")
    for lib in libraries:
        rates = [rate(seconds[(lib, T)]) for T in args.threads]
        cells = " | ".join(f"{r / 1e6:.2f}M" for r in rates)
        print(f"| {lib} | {cells} | {rates[-1] / rates[0]:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
