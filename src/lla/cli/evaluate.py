"""``lla evaluate DIR [CORPUS]``: held-out perplexity of a saved model (DESIGN §3)."""

import json
import sys


def add_parser(subparsers):
    p = subparsers.add_parser(
        "evaluate", help="held-out perplexity of a saved model",
        description="Score the held-out suffixes of CORPUS (default: the corpus the model was "
                    "trained on) with a saved model: perplexity, held-out tokens, parameters.  "
                    "Under torchrun the LLA variants' scoring is shared by the processes "
                    "(docs/distributed.md).")
    p.add_argument("model", metavar="DIR", help="model directory (from `lla train`)")
    p.add_argument("corpus", metavar="CORPUS", nargs="?",
                   help="corpus directory (default: the training corpus recorded in the model)")
    p.add_argument("--particles", type=int, metavar="S",
                   help="particles of the particle filter (topic-lla, independent, ddlda; "
                        "default: the model's own); ignored by models scored exactly")
    p.add_argument("--no-ranking", dest="ranking", action="store_false", default="auto",
                   help="skip HR@10 / MRR (computed by default on event data)")
    p.add_argument("--exclude-history", action="store_true",
                   help="rank without the items already in each history (rating data)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run)


def run(args):
    from ..base import load_model
    from ..data import Corpus
    from ..errors import InputError
    from ..evaluation import evaluate

    model = load_model(args.model)
    path = args.corpus or getattr(model, "corpus_path_", None)
    if not path:
        raise InputError("no CORPUS given and the model does not record its training corpus",
                         args.model)
    corpus = Corpus.open(path)
    if args.particles is not None and args.particles < 1:
        from ..errors import ParameterError
        raise ParameterError(f"--particles must be >= 1, got {args.particles}")
    result = evaluate(model, corpus, ranking=args.ranking, n_particles=args.particles,
                      exclude_history=args.exclude_history)
    result["corpus"] = str(corpus.path)
    from .. import distributed
    if not distributed.is_writer():  # under torchrun: every rank scored its share, rank 0 prints
        return 0
    if model.interruption():
        result["interrupted"] = model.interruption()
        print(f"lla evaluate: note: this model's training was {model.interruption()}; it is "
              f"the last finished step, not the training that was asked for", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True, allow_nan=False))
        return 0
    params = result["parameters"]
    print(f"{result['model']} on {result['corpus']}")
    print(f"  {'perplexity':<22} {result['perplexity']:>14,.2f}")
    print(f"  {'held-out tokens':<22} {result['heldout_tokens']:>14,}")
    print(f"  {'log-likelihood (nats)':<22} {result['log_likelihood']:>14,.1f}")
    for key in ("dense", "nonzero", "total"):
        if key in params:
            print(f"  {'parameters, ' + key:<22} {params[key]:>14,}")
    if "n_particles" in result:
        print(f"  {'particles (S)':<22} {result['n_particles']:>14,}")
    print(f"  {'protocol':<22} {result['protocol']:>14}")
    for key in ("hr@10", "ndcg@10", "mrr@10", "mrr", "validation_hr@10", "validation_ndcg@10",
                "validation_mrr@10"):
        if key in result:
            print(f"  {key.upper():<22} {result[key]:>14.4f}")
    if result.get("exclude_history"):
        print("  (ranked with the history's items excluded)")
    print(f"  {'scoring seconds':<22} {result['scoring_seconds']:>14,.2f}")
    return 0
