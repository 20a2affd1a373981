"""``lla compare CORPUS --models ... --topics ... --out DIR``: the paper's comparison.

The model options are generated from the models' declared hyper-parameters
(:mod:`lla.cli.model_options`): each sets the parameter of every listed model that has it."""

import argparse
import shlex

HELP = """\
Train every listed model on the training prefixes of CORPUS, score each with the held-out
protocol (perplexity; HR@10 and MRR for event data), and write DIR/results.json,
DIR/results.md and the plots: perplexity against model size (the paper's Fig. 4), perplexity
against K (Fig. 5) and joint against independent training (Table 4).  Models already trained in
DIR are not trained again, so an interrupted comparison resumes.  A model option sets the
parameter of every listed model that has it (in brackets: those models and their defaults).
Example:
  lla compare movielens --models lda,topic-lla,independent,word-lstm --topics 20,50 --out cmp"""


def add_parser(subparsers):
    from ..base import registered_models
    from ..compare import DEFAULT_MODELS
    from .model_options import add_options
    p = subparsers.add_parser("compare", help="train and score several models side by side",
                              description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", metavar="CORPUS", help="corpus directory (from `lla prepare`)")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output directory")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS), metavar="LIST",
                   help=f"comma-separated, from: {', '.join(registered_models())} "
                        f"(default: {','.join(DEFAULT_MODELS)})")
    p.add_argument("--topics", "-k", default="50", metavar="K[,K...]",
                   help="numbers of topics for the topic models (default 50)")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                   help="never show progress bars")
    p.add_argument("--masked", action="store_true",
                   help="event data: also rank with the items of each history excluded (rating "
                        "data, where a user rates an item once) and show both")
    p.add_argument("--convergence", action="store_true",
                   help="also record, for every run, validation perplexity against training "
                        "time (the paper's Fig. 8; drawn as convergence.png): LDA and the LLA "
                        "variants train a second copy on the first 60 %% of each training "
                        "prefix, scored on the rest after every sweep / iteration (costs about "
                        "one more fit each); the LSTM LMs record their own validation stage")
    add_options(p.add_argument_group("model options"), "compare_flag")
    p.set_defaults(run=run)


def _int_list(text, flag):
    from ..errors import ParameterError
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ParameterError(f"{flag}: expected comma-separated integers, got {text!r}") from None


def run(args):
    from ..compare import CompareSettings, compare, is_event_corpus, results_table
    from ..data import Corpus
    from ..params import flag_dest
    from .model_options import declarations

    corpus = Corpus.open(args.corpus)
    options = {flag_dest(flag): getattr(args, flag_dest(flag))
               for flag in declarations("compare_flag") if flag != "--seed"}
    settings = CompareSettings(topics=_int_list(args.topics, "--topics"),
                               options={k: v for k, v in options.items() if v is not None},
                               seed=0 if args.seed is None else args.seed,
                               show_progress=args.progress, masked=args.masked,
                               convergence=args.convergence)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    command = "lla " + " ".join(shlex.quote(a) for a in args.argv)
    results = compare(corpus, args.out, models, settings, command=command)
    print(results_table(results, is_event_corpus(corpus), corpus.protocol))
    print(f"\nwrote {args.out}/results.json, results.md and plots")
    return 0
