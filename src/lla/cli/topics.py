"""``lla topics DIR``: the words of every topic of a saved model, readable."""

import json


def add_parser(subparsers):
    p = subparsers.add_parser(
        "topics", help="top words of every topic",
        description="Print the words of every topic of a saved topic model, ranked by "
                    "λ-relevance (Sievert & Shirley 2014: λ·log φ_kw + (1−λ)·log(φ_kw / p_w); "
                    "λ = 0.6, their user study's optimum, keeps a topic's frequent words but "
                    "demotes those frequent everywhere, such as 'the of a'), with item names "
                    "where the training corpus had them.  --lambda 1 ranks by probability.")
    p.add_argument("model", metavar="DIR", help="model directory (from `lla train`)")
    p.add_argument("--top", "-n", type=int, default=10, metavar="N",
                   help="words per topic (default 10)")
    p.add_argument("--lambda", dest="lam", type=float, default=None, metavar="L",
                   help="relevance weight λ in [0, 1] (default 0.6; 1 = probability)")
    p.add_argument("--ids", action="store_true", help="show type ids, not item names")
    p.add_argument("--coherence", action="store_true",
                   help="also NPMI of every topic's 10 most probable words (sliding window of "
                        "10 tokens) and the topic diversity (distinct share of all top-25 words)")
    p.add_argument("--reference", metavar="CORPUS",
                   help="reference corpus of --coherence, whole documents (default: the "
                        "training corpus's prefixes); it must have the model's vocabulary "
                        "(`lla prepare --vocabulary`)")
    p.add_argument("--json", action="store_true", help="print {topic: [words]} as JSON")
    p.set_defaults(run=run)


def run(args):
    from ..base import load_model
    from ..errors import ParameterError
    from ..interpret import DEFAULT_LAMBDA

    if args.top < 1:
        raise ParameterError(f"--top must be >= 1, got {args.top}")
    lam = DEFAULT_LAMBDA if args.lam is None else args.lam
    if not 0.0 <= lam <= 1.0:
        raise ParameterError(f"--lambda must lie in [0, 1], got {lam}")
    model = load_model(args.model)
    ids = list(model.topic_ids())
    words = model.topic_words(args.top, lam=lam, names=not args.ids).labels
    topics = {k: words[k] for k in ids}
    npmi, summary = None, {}
    if args.coherence:
        npmi, summary = _coherence(model, args.reference)
    if args.json:
        doc = {str(k): w for k, w in topics.items()}
        if npmi is not None:
            doc = {"topics": doc, "npmi": {str(k): float(v) for k, v in zip(ids, npmi)},
                   **summary}
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    width = len(str(len(topics) - 1))
    for k, w in topics.items():
        score = f"{npmi[k]:+.3f}  " if npmi is not None else ""
        print(f"{k:>{width}}  {score}{' · '.join(w)}")
    for key, value in summary.items():
        print(f"{key}: {value:.4f}")
    return 0


def _coherence(model, reference):
    """NPMI per topic (top 10 by probability) on the reference corpus, mean NPMI, diversity."""
    from ..data import Corpus
    from ..errors import InputError
    from ..interpret import corpus_npmi, topic_diversity
    if reference is None:
        if not model.corpus_path_:
            raise InputError("--coherence: give --reference (the model does not record its "
                             "training corpus)")
        corpus, part = Corpus.open(model.corpus_path_), "prefix"
    else:
        corpus, part = Corpus.open(reference), "all"
    model._check_vocabulary(corpus)
    coherence = corpus_npmi(model.topic_words(10, lam=1.0, names=False).ids, corpus, part=part)
    diversity = topic_diversity(model.topic_words(25, lam=1.0, names=False).ids)
    return coherence.npmi, {"mean NPMI": coherence.mean, "topic diversity": diversity}
