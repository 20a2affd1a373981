"""``lla prepare INPUT... --out DIR``: raw files -> corpus store."""

import json

HELP = """\
Read raw files (plain text, WikiExtractor, WikiText, JSONL, CSV/TSV/Parquet event logs,
MovieLens u.data, Last.fm HetRec tag assignments; .gz/.bz2/.xz read transparently) and write a
corpus store: int32 token ids, int64 document offsets, vocab.tsv, names.tsv (item names, when
known) and meta.json.  The vocabulary is built from the training events only.

Evaluation protocols (stored with the corpus, so every score can say which produced it):
  prefix60  the first --split fraction (default 0.6) of every document is training data, the
            rest held out (DESIGN §3; the default)
  loo       leave-one-out for event data: per user the last event is the test target, the one
            before it the validation target, everything earlier is training (users with 1-2
            events: training only; 3 events: no validation target - as RecBole's sequential
            models)

Presets reproduce the benchmark corpora defined in docs/corpora.md exactly:
  lla prepare --preset wiki shared/data/enwiki-2015-wikiextractor/enwiki-AA-00-19.txt.xz --out wiki
  lla prepare --preset movielens shared/data/ml-100k/u.data --out movielens
  lla prepare --preset lastfm shared/data/lastfm-hetrec-2k/user_taggedartists.dat.xz --out lastfm
  lla prepare --preset diginetica shared/data/diginetica-sample/sample_train-item-views.csv --out diginetica
  lla prepare --preset wiki-sample --out wiki-sample   (150 articles shipped with lla)
The movielens and lastfm presets read item names from u.item / artists.dat beside the input.
Flags given explicitly override the preset's values."""


def add_parser(subparsers):
    from ..data.build import PRESETS
    from ..data.protocols import PROTOCOLS
    from ..data.readers import FORMATS
    from ..data.tokenize import TOKENIZERS

    p = subparsers.add_parser("prepare", help="turn raw files into a corpus store",
                              description=HELP, formatter_class=_formatter())
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="input files (none for --preset wiki-sample)")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="corpus directory to write")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")
    p.add_argument("--preset", choices=sorted(PRESETS), help="a benchmark corpus recipe")
    p.add_argument("--format", choices=FORMATS, help="input format (default: text)")
    p.add_argument("--tokenizer", choices=TOKENIZERS,
                   help="'words' = lower-cased \\w+ runs (default), 'whitespace' = split on spaces")
    p.add_argument("--no-lowercase", dest="lowercase", action="store_false", default=None,
                   help="keep case")
    p.add_argument("--min-doc-tokens", type=int, metavar="N", help="drop shorter documents")
    p.add_argument("--max-vocab", type=int, metavar="N",
                   help="keep the N most frequent types (plus <unk>)")
    p.add_argument("--min-count", type=int, metavar="N",
                   help="keep types seen at least N times in the prefixes")
    p.add_argument("--split", dest="split_fraction", type=float, metavar="F",
                   help="fraction of every document used for training (default 0.6; "
                        "protocol prefix60 only)")
    p.add_argument("--protocol", choices=PROTOCOLS,
                   help="evaluation protocol: prefix60 (default) or loo (leave-one-out)")
    p.add_argument("--item-names", metavar="FILE",
                   help="display names of the items: type<TAB>name lines, CSV, a table with id "
                        "and name columns, or MovieLens u.item (default: u.item / artists.dat "
                        "beside a MovieLens / Last.fm input)")
    p.add_argument("--vocabulary", metavar="CORPUS",
                   help="use the vocabulary of this corpus as it is (types outside it become "
                        "<unk>): its models can then score the new corpus, or use it as the "
                        "reference corpus of topic coherence")
    p.add_argument("--no-item-names", action="store_true",
                   help="store no item names, not even those beside the input")
    g = p.add_argument_group("event logs (--format events)")
    g.add_argument("--user-column", metavar="NAME", help="default: user")
    g.add_argument("--item-column", metavar="NAME", help="default: item")
    g.add_argument("--time-column", metavar="NAME", help="default: timestamp")
    g.add_argument("--delimiter", metavar="CHAR",
                   help="CSV delimiter (default: tab for .tsv, else comma)")
    g = p.add_argument_group("JSONL (--format jsonl)")
    g.add_argument("--field", metavar="NAME",
                   help="the field holding the text or token list (default: tokens, then text)")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON")
    p.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="always show the progress bar (default: only on a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="never show the progress bar")
    p.set_defaults(run=run)


def _formatter():
    import argparse
    return argparse.RawDescriptionHelpFormatter


def run(args):
    from ..data.build import PrepareOptions, prepare, preset, preset_inputs
    from ..errors import ParameterError

    fields = ("format", "tokenizer", "lowercase", "min_doc_tokens", "max_vocab", "min_count",
              "split_fraction", "protocol", "user_column", "item_column", "time_column",
              "delimiter", "field")
    given = {f: getattr(args, f) for f in fields if getattr(args, f) is not None}
    if args.delimiter == "\\t":
        given["delimiter"] = "\t"
    options = preset(args.preset, **given) if args.preset else PrepareOptions(**given)
    inputs = args.inputs or (preset_inputs(args.preset) if args.preset else [])
    if not inputs:
        raise ParameterError("give at least one INPUT file")
    if options.protocol == "loo" and args.split_fraction is not None:
        raise ParameterError("--split applies to --protocol prefix60 only, not loo")
    if args.no_item_names and args.item_names:
        raise ParameterError("give --item-names or --no-item-names, not both")
    item_names = False if args.no_item_names else args.item_names
    vocabulary = None
    if args.vocabulary:
        from ..data import Corpus
        vocabulary = Corpus.open(args.vocabulary).vocab
    corpus = prepare(inputs, args.out, options, force=args.force, show_progress=args.progress,
                     item_names=item_names, vocabulary=vocabulary)
    stats = corpus.meta["statistics"]
    if args.json:
        print(json.dumps({"path": str(corpus.path), **stats}, indent=2, sort_keys=True))
    else:
        print(f"wrote {corpus.path} (protocol {corpus.protocol})")
        print(format_statistics(stats))
        names = corpus.meta.get("item_names")
        if names:
            print(f"  {'item names':<30} {names['n_named']:>12,} of {len(corpus.vocab) - 1:,} "
                  f"types ({names['n_names_not_in_vocabulary']:,} names of other items unused)")
    return 0


def format_statistics(stats):
    rows = [("documents", stats["n_docs"]), ("tokens", stats["n_tokens"]),
            ("  training prefixes", stats["n_prefix_tokens"]),
            ("  held-out suffixes", stats["n_suffix_tokens"]),
            ("vocabulary (with <unk>)", stats["vocab_size"]),
            ("<unk> in prefixes / suffixes", f"{stats['n_unk_prefix']:,} / {stats['n_unk_suffix']:,}"),
            ("document length min / max", f"{stats['min_doc_length']:,} / {stats['max_doc_length']:,}")]
    for part in ("validation", "test"):
        if f"n_{part}_targets" in stats:
            value = f"{stats[f'n_{part}_targets']:,} ({stats[f'n_unk_{part}_targets']:,} <unk>"
            if f"n_{part}_targets_tied" in stats:
                value += f", {stats[f'n_{part}_targets_tied']:,} tied in time"
            rows.append((f"{part} targets (loo)", value + ")"))
    if "n_docs_without_targets" in stats:
        rows.append(("documents without targets", stats["n_docs_without_targets"]))
    if "n_docs_dropped" in stats:
        rows.append(("documents dropped (too short)", stats["n_docs_dropped"]))
    if "seconds" in stats and stats["seconds"]:
        rows.append(("tokens per second", int(stats["n_tokens"] / max(stats["seconds"], 1e-9))))
    return "\n".join(f"  {k:<30} {v:>12,}" if isinstance(v, int) else f"  {k:<30} {v:>12}"
                     for k, v in rows)
