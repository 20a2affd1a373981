"""``lla info DIR``: describe a corpus store."""

import json


def add_parser(subparsers):
    p = subparsers.add_parser("info", help="describe a corpus directory",
                              description="Print the statistics and settings of a corpus "
                                          "written by `lla prepare`.")
    p.add_argument("corpus", metavar="DIR", help="corpus directory")
    p.add_argument("--json", action="store_true", help="print meta.json as JSON")
    p.set_defaults(run=run)


def run(args):
    from ..data import Corpus
    from .prepare import format_statistics

    corpus = Corpus.open(args.corpus)
    stats = corpus.statistics()
    if args.json:
        print(json.dumps({**corpus.meta, "statistics": {**corpus.meta.get("statistics", {}),
                                                        **stats}}, indent=2, sort_keys=True))
        return 0
    split = "leave-one-out" if corpus.protocol == "loo" else f"split {corpus.split_fraction:g}"
    print(f"{corpus.path}  (lla corpus format {corpus.meta.get('format_version')}, "
          f"protocol {corpus.protocol}, {split})")
    options = corpus.meta.get("options")
    if options:
        print("  " + ", ".join(f"{k}={v}" for k, v in sorted(options.items()) if v is not None))
    print(format_statistics({**corpus.meta.get("statistics", {}), **stats}))
    return 0
