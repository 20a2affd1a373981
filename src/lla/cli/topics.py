"""``lla topics DIR``: the most probable words of every topic of a saved model."""

import json


def add_parser(subparsers):
    p = subparsers.add_parser("topics", help="top words of every topic",
                              description="Print the most probable words of every topic of a "
                                          "saved topic model.")
    p.add_argument("model", metavar="DIR", help="model directory (from `lla train`)")
    p.add_argument("--top", "-n", type=int, default=10, metavar="N",
                   help="words per topic (default 10)")
    p.add_argument("--json", action="store_true", help="print {topic: [words]} as JSON")
    p.set_defaults(run=run)


def run(args):
    from ..base import load_model
    from ..errors import ParameterError

    if args.top < 1:
        raise ParameterError(f"--top must be >= 1, got {args.top}")
    model = load_model(args.model)
    topics = {k: model.top_words(k, args.top) for k in model.topic_ids()}
    if args.json:
        print(json.dumps({str(k): words for k, words in topics.items()}, indent=2))
        return 0
    width = len(str(len(topics) - 1))
    for k, words in topics.items():
        print(f"{k:>{width}}  {' '.join(words)}")
    return 0
