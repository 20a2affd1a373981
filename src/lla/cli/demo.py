"""``lla demo``: LDA and topic-LLA side by side on the Wikipedia sample shipped with lla."""

import argparse
import tempfile
import time
from pathlib import Path

HELP = """\
Prepare the 150-article Wikipedia sample that ships with lla (CC BY-SA 3.0), train LDA and
topic-LLA on the first 60 % of every article, score both on the last 40 % (held-out
perplexity; topic-LLA with a particle filter) and print them side by side with their sizes and
the top words of a few topics.  About 30 s on a quiet 2-core machine."""


def add_parser(subparsers):
    p = subparsers.add_parser("demo", help="LDA vs topic-LLA on the bundled Wikipedia sample",
                              description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--topics", "-k", type=int, default=20, metavar="K", help="default 20")
    p.add_argument("--hidden", type=int, default=64, metavar="H", help="default 64")
    p.add_argument("--embedding", type=int, default=64, metavar="E", help="default 64")
    p.add_argument("--lda-iterations", type=int, default=100, metavar="N", help="default 100")
    p.add_argument("--sem-iterations", type=int, default=3, metavar="N", help="default 3")
    p.add_argument("--particles", type=int, default=16, metavar="S", help="default 16")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="default 0")
    p.add_argument("--device", default="cpu", help="cpu, cuda, ... (default cpu)")
    p.add_argument("--out", metavar="DIR",
                   help="keep the corpus and both models in DIR (default: a temporary folder)")
    p.add_argument("--docs", type=int, metavar="N",
                   help="use only the first N articles (default: all 150)")
    p.add_argument("--show-topics", type=int, default=5, metavar="N",
                   help="topics whose top words are printed (default 5)")
    p.set_defaults(run=run)


def run(args):
    from ..data.build import preset, preset_inputs, prepare
    from ..evaluation import evaluate
    from ..interpret import DEFAULT_LAMBDA
    from ..models import LDA, TopicLLA, Unigram

    with tempfile.TemporaryDirectory(prefix="lla-demo-") as tmp:
        root = Path(args.out) if args.out else Path(tmp)
        corpus_dir = root / "wiki-sample"
        print("preparing the bundled Wikipedia sample ...", flush=True)
        corpus = prepare(preset_inputs("wiki-sample"), corpus_dir, preset("wiki-sample"),
                         force=True)
        if args.docs is not None:
            if args.docs < 1:
                from ..errors import ParameterError
                raise ParameterError(f"--docs must be >= 1, got {args.docs}")
            corpus = corpus.subset(range(min(args.docs, len(corpus))))
        print(f"  {len(corpus)} articles, {corpus.n_prefix_tokens:,} training / "
              f"{corpus.n_suffix_tokens:,} held-out tokens, V = {len(corpus.vocab):,}")
        rows = []
        models = [
            ("unigram", Unigram()),
            (f"LDA (K={args.topics})", LDA(args.topics, n_iter=args.lda_iterations,
                                           random_state=args.seed)),
            (f"topic-LLA (K={args.topics}, E={args.embedding}, H={args.hidden})",
             TopicLLA(args.topics, embedding_size=args.embedding, hidden_size=args.hidden,
                      n_iter=args.sem_iterations, init_lda_iter=args.lda_iterations,
                      init_lstm_epochs=3, lstm_epochs_per_iter=1, n_particles=args.particles,
                      device=args.device, random_state=args.seed)),
        ]
        fitted = {}
        for name, model in models:
            print(f"training {name} ...", flush=True)
            start = time.perf_counter()
            model.fit(corpus)
            seconds = time.perf_counter() - start
            result = evaluate(model, corpus)
            rows.append((name, result, seconds))
            fitted[model.model_name] = model
            if args.out:
                model.save(root / model.model_name, force=True)
        print()
        print(f"{'model':<40} {'held-out PPL':>12} {'dense params':>13} {'non-zeros':>10} "
              f"{'train s':>8}")
        for name, r, seconds in rows:
            p = r["parameters"]
            print(f"{name:<40} {r['perplexity']:>12.1f} {p['dense']:>13,} {p['nonzero']:>10,} "
                  f"{seconds:>8.1f}")
        print(f"(topic-LLA scored by a particle filter with S = {args.particles})")
        for key in ("lda", "topic-lla"):
            model = fitted[key]
            words = model.topic_words(8, lam=DEFAULT_LAMBDA).labels
            print(f"\ntop words of {key} (by λ-relevance, λ = {DEFAULT_LAMBDA}; "
                  f"`lla topics --lambda 1` ranks by probability):")
            for k in range(min(args.show_topics, args.topics)):
                print(f"  {k:>3}  {' · '.join(words[k])}")
        if args.out:
            print(f"\ncorpus and models saved in {root}")
    return 0
