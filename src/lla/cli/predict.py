"""``lla predict MODEL --history ITEM ... | --input FILE``: what comes next, and why."""

import argparse

HELP = """\
Predict what comes next after raw histories with a saved model: the most probable next items
and (for models with topics) next topics with their probabilities, and the explanation: the
topic the model read each history item as (LLA variants, ddLDA) or the history's topic mixture
θ_d (LDA).  Unknown items are read as <unk> and listed.  Examples:
  lla predict ml-tlla --history 50 172 133 --items 5
  lla predict ml-tlla --input users.txt --format json        (one history per line)
  lla predict ml-tlla --input u.data --input-format movielens --format csv
      (an event file in any format `lla prepare` reads: one history per user)"""

LINES = "lines"


def add_parser(subparsers):
    from ..data.readers import FORMATS
    p = subparsers.add_parser("predict", help="next items and topics for raw histories",
                              description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="model directory (from `lla train`)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--history", nargs="*", metavar="ITEM",
                        help="one history: its items in order (none: predict from the start)")
    source.add_argument("--input", metavar="FILE",
                        help="histories: one per line (items separated by spaces), or an event "
                             "file (see --input-format)")
    p.add_argument("--input-format", choices=(LINES,) + tuple(FORMATS), default=LINES,
                   help="'lines' (default): one history per line; otherwise a format of `lla "
                        "prepare` (events, movielens, lastfm, text, jsonl, ...), one history "
                        "per user / document")
    p.add_argument("--user-column", default="user", metavar="NAME", help="events: default user")
    p.add_argument("--item-column", default="item", metavar="NAME", help="events: default item")
    p.add_argument("--time-column", default="timestamp", metavar="NAME",
                   help="events: default timestamp")
    p.add_argument("--delimiter", metavar="CHAR", help="events: CSV delimiter")
    p.add_argument("--items", type=int, default=10, metavar="N", help="next items (default 10)")
    p.add_argument("--topics", type=int, metavar="N",
                   help="next topics (default 3 for models with topics)")
    p.add_argument("--words", type=int, default=5, metavar="N",
                   help="words shown per topic, by λ-relevance (default 5)")
    p.add_argument("--exclude-history", action="store_true",
                   help="never propose an item the history already has (rating data)")
    p.add_argument("--particles", type=int, metavar="S",
                   help="particles of the particle-filter models (default: the model's own)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table",
                   help="output (default table)")
    p.set_defaults(run=run)


def _histories(args):
    """[(name, [items])] from --history or --input."""
    from ..data.readers import iter_lines, read_documents
    from ..data.tokenize import make_tokenizer
    from ..errors import InputError
    if args.history is not None:
        return [("history", list(args.history))]
    if args.input_format == LINES:
        rows = [(f"line {n}", line.split()) for n, line in iter_lines(args.input)
                if line.strip()]
    else:
        options = {"user_column": args.user_column, "item_column": args.item_column,
                   "time_column": args.time_column, "delimiter": args.delimiter}
        rows = [(str(doc_id), list(items)) for doc_id, items, *_ in
                read_documents(args.input, args.input_format, make_tokenizer("whitespace", False),
                               **options)]
    if not rows:
        raise InputError("no histories found (empty input?)", args.input)
    return rows


def run(args):
    import json

    from ..base import load_model
    from ..errors import InputError, ParameterError

    if args.items < 1 or (args.topics is not None and args.topics < 0) or args.words < 0:
        raise ParameterError("--items must be >= 1, --topics and --words >= 0")
    if args.particles is not None and args.particles < 1:
        raise ParameterError(f"--particles must be >= 1, got {args.particles}")
    model = load_model(args.model)
    if args.topics is not None and not model._has_topics():
        raise ParameterError(f"--topics: a {model.model_name} model has no topics (it predicts "
                             f"items only)")
    named = _histories(args)
    predictions = model.predict_next([h for _, h in named], n_items=args.items,
                                     n_topics=3 if args.topics is None else args.topics,
                                     n_words=args.words, n_particles=args.particles,
                                     exclude_history=args.exclude_history)
    if all(len(p.unknown) == len(h) and h for p, (_, h) in zip(predictions, named)):
        raise InputError("none of the histories' items is in the model's vocabulary (a "
                         "different corpus, or item names instead of ids?)",
                         args.input or "--history")
    if args.format == "json":
        print(json.dumps([{"name": name, **p.as_dict()} for (name, _), p in
                          zip(named, predictions)], indent=2, ensure_ascii=False,
                         allow_nan=False))
    elif args.format == "csv":
        _print_csv(named, predictions)
    else:
        _print_table(named, predictions)
    return 0


def _print_csv(named, predictions):
    import csv
    import sys
    writer = csv.writer(sys.stdout)
    writer.writerow(["history", "kind", "rank", "id", "name", "probability", "words"])
    for (name, _), p in zip(named, predictions):
        for rank, (item, prob) in enumerate(p.items, 1):
            writer.writerow([name, "item", rank, item, p.label(item), f"{prob:.6g}", ""])
        for rank, (k, prob) in enumerate(p.topics or [], 1):
            writer.writerow([name, "topic", rank, k, "", f"{prob:.6g}",
                             " ".join(p.topic_words.get(k, []))])


def _print_table(named, predictions):
    for (name, _), p in zip(named, predictions):
        shown = p.history[-10:]
        more = f"... ({len(p.history)} items) " if len(p.history) > 10 else ""
        print(f"{name}: {more}{' '.join(p.label(i) for i in shown) or '(empty history)'}")
        if p.unknown:
            print(f"  unknown items (read as <unk>): {' '.join(p.unknown)}")
        if p.path is not None and p.path:
            path = p.path[-10:]
            print(f"  read as topics: {'... ' if len(p.path) > 10 else ''}"
                  f"{' '.join(str(k) for k in path)}")
        if p.history_topics:
            parts = [f"{k} ({s:.0%}: {' · '.join(p.topic_words.get(k, [])[:3])})"
                     for k, s in p.history_topics]
            print(f"  history's topics: {'; '.join(parts)}")
        for k, prob in p.topics or []:
            print(f"  next topic {k:>3}  {prob:6.3f}  {' · '.join(p.topic_words.get(k, []))}")
        for rank, (item, prob) in enumerate(p.items, 1):
            print(f"  {rank:>3}. {p.label(item)}  {prob:.4f}")
        print()
