"""``lla report MODEL [MODEL ...] --out DIR``: one self-contained HTML page of trained models."""

import argparse

HELP = """\
Write one self-contained HTML page (opens from disk, no network) describing trained models: per
model its held-out perplexity, size and (event data) HR@10 / MRR; a sortable, searchable topic
table (top words by λ-relevance with item names, NPMI, share of tokens); the topic hierarchy
(dendrogram), a 2-D topic map and the next-topic transition heatmap; for event data a few
users' histories with their topic paths, predicted next topics and items, and what they did
next.  Two or more models with topics get their topics matched side by side.  Examples:
  lla report ml-lda ml-tlla --out report/          (corpus: the one the models were trained on)
  lla report wiki-tlla --corpus wiki --out wiki-report/"""


def add_parser(subparsers):
    p = subparsers.add_parser("report", help="an HTML page of trained models",
                              description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", metavar="MODEL", help="model directories")
    p.add_argument("--corpus", metavar="DIR",
                   help="corpus to score and read histories from (default: the first model's "
                        "training corpus)")
    p.add_argument("--out", "-o", required=True, metavar="DIR",
                   help="directory for report.html")
    p.add_argument("--force", action="store_true", help="replace DIR/report.html if it exists")
    p.add_argument("--histories", type=int, default=5, metavar="N",
                   help="users' histories shown for event data (default 5)")
    p.add_argument("--particles", type=int, metavar="S",
                   help="particles of the particle-filter models (default: the model's own)")
    p.add_argument("--exclude-history", action="store_true",
                   help="the histories' predicted items never repeat an item of the history "
                        "(rating data, where a user rates an item once)")
    p.add_argument("--title", help="page title")
    p.set_defaults(run=run)


def run(args):
    import time
    from pathlib import Path

    from .._atomic import check_writable
    from ..base import load_model, model_label
    from ..data import Corpus
    from ..errors import InputError, ParameterError
    from ..report import write_html
    from ..report.build import build_report

    if args.histories < 0 or (args.particles is not None and args.particles < 1):
        raise ParameterError("--histories must be >= 0 and --particles >= 1")
    target = Path(args.out) / "report.html"
    check_writable(target, force=args.force)
    start = time.perf_counter()
    labels = [model_label(m) for m in args.models]
    labels = [f"{label} ({i + 1})" if labels.count(label) > 1 else label
              for i, label in enumerate(labels)]
    models = [(label, load_model(m)) for label, m in zip(labels, args.models)]
    path = args.corpus or models[0][1].corpus_path_
    if not path:
        raise InputError("no --corpus given and the model does not record its training corpus",
                         args.models[0])
    corpus = Corpus.open(path)
    report = build_report(models, corpus, title=args.title, n_histories=args.histories,
                          n_particles=args.particles, exclude_history=args.exclude_history)
    write_html(report, target)
    print(f"wrote {target} ({len(models)} model{'s' if len(models) > 1 else ''}, "
          f"{time.perf_counter() - start:.1f} s)")
    return 0
