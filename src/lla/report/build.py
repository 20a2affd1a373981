"""The report of trained models (DESIGN §5): read every model through the shared interface —
scores, readable topics, NPMI, hierarchy, topic map, transitions, next-topic predictions of a
few users — into the dataclasses of :mod:`.data`, then one self-contained HTML page.

Fixed rules, so that nothing is hand-picked: topics are listed in id order (the table sorts);
the histories shown are those of the first ``n_histories`` documents (corpus order) with at
least :data:`MIN_HISTORY` training events and a held-out event; two models are compared by
matching their topics (Hungarian on φ rows, 1 − Jensen–Shannon).
"""

import time

import numpy as np

from ..evaluation import evaluate
from ..interpret import (DEFAULT_LAMBDA, corpus_npmi, dendrogram_figure, match_topics,
                         topic_diversity, topic_hierarchy, topic_map, topic_map_figure,
                         transition_heatmap)
from .data import (HistoryRow, MatchedPair, ModelComparison, ModelReport, Report, ReportFigure,
                   TopicRow)

#: training events a history needs to be shown
MIN_HISTORY = 10
#: NPMI is computed on every topic's top words by probability (the measure's convention)
NPMI_WORDS = 10


#: the most words per topic the report shows or measures (diversity's top 25)
RANKED_WORDS = 25


class RankedWords:
    """A model's topic words ranked once per λ (``RANKED_WORDS`` of them) for everything the
    report shows: a shorter list is a prefix of the ranking (:meth:`TopWords.head`), so at
    K = 1000 the (K, V) relevance is computed twice per model, not five times."""

    def __init__(self, model):
        self.model = model
        self._by_lambda = {}

    def __call__(self, n, lam):
        lam = float(lam)
        if lam not in self._by_lambda:
            self._by_lambda[lam] = self.model.topic_words(RANKED_WORDS, lam=lam)
        return self._by_lambda[lam].head(min(int(n), self._by_lambda[lam].ids.shape[1]))


def topic_rows(model, corpus, *, n_words=10, lam=DEFAULT_LAMBDA, words=None):
    """One :class:`TopicRow` per topic: λ-relevance words (item names where known), NPMI of
    the top-10 words by probability on ``corpus``'s training prefixes, share of the training
    tokens.  ``words``: the model's :class:`RankedWords` (made here if None).  Returns (rows,
    summary dict with mean NPMI and topic diversity)."""
    ranked = words or RankedWords(model)
    shown = ranked(n_words, lam)
    coherence = corpus_npmi(ranked(NPMI_WORDS, 1.0).ids, corpus, part="prefix")
    counts = np.asarray(model.n_wk_, np.float64).sum(axis=0)
    share = counts / max(counts.sum(), 1.0)
    diversity = topic_diversity(ranked(25, 1.0).ids)
    rows = [TopicRow(k, shown.labels[k], npmi=float(coherence.npmi[k]), share=float(share[k]))
            for k in model.topic_ids()]
    return rows, {"NPMI (mean, top 10, training prefixes)": coherence.mean,
                  "topic diversity (top 25)": diversity}


def topic_figures(model, *, lam=DEFAULT_LAMBDA, words=None):
    """Dendrogram and 2-D map of the topic embedding, and the next-topic transition heatmap(s)
    ordered by the hierarchy (``words``: the model's :class:`RankedWords`, optional)."""
    labels = (words or RankedWords(model))(4, lam).short_labels(3)
    tree = topic_hierarchy(model.topic_embedding())
    coords, explained = topic_map(tree.distances)
    counts = np.asarray(model.n_wk_, np.float64).sum(axis=0)
    figures = [
        ReportFigure.from_matplotlib(dendrogram_figure(tree, labels), "Topic hierarchy",
                                     f"agglomerative clustering of the topic embedding "
                                     f"({tree.metric} distance, {tree.method} linkage)"),
        ReportFigure.from_matplotlib(topic_map_figure(coords, labels, sizes=counts / counts.sum(),
                                                      clusters=tree.clusters(min(5, len(coords))),
                                                      explained=explained),
                                     "Topic map", "classical MDS of the same distances; size = "
                                                  "share of the training tokens"),
    ]
    captions = {"empirical": "from the model's topic assignments of the training prefixes",
                "lstm": "the LSTM's one-step response: θ after x_0 and topic i"}
    for kind in model.transition_kinds:
        caption = captions.get(kind, kind)
        P = model.transition_matrix(kind)
        figures.append(ReportFigure.from_matplotlib(
            transition_heatmap(P, labels, order=tree.order),
            f"Next-topic transitions ({kind})", caption + "; rows and columns ordered by the "
                                                          "hierarchy"))
    return figures


def history_rows(model, corpus, *, n_histories=5, n_items=5, n_particles=None,
                 exclude_history=False):
    """The first ``n_histories`` documents with at least MIN_HISTORY training events: their
    training prefix as the history, the model's topic path and next topics/items (with
    ``exclude_history``, never an item of the history: rating data), and the first held-out
    events (what the user actually did next)."""
    docs = [d for d in range(len(corpus))
            if corpus.prefix_lengths[d] >= MIN_HISTORY and corpus.suffix_lengths[d] > 0]
    docs = docs[:int(n_histories)]
    if not docs:
        return []
    predictions = model.predict_next([np.asarray(corpus.prefix(d)) for d in docs],
                                     n_items=n_items, n_particles=n_particles,
                                     exclude_history=exclude_history)
    rows = []
    for d, p in zip(docs, predictions):
        user = corpus.doc_ids[d] if corpus.doc_ids is not None else f"document {d}"
        rows.append(HistoryRow(
            user=str(user), history=[p.label(i) for i in p.history][-20:],
            topic_path=(p.path or [])[-20:],
            predicted_topics=list(p.topics or []),
            predicted_items=[(p.label(i), q) for i, q in p.items],
            actual_next=[model._display_names()[t] for t in corpus.suffix(d)[:3]]))
    return rows


def model_report(name, model, corpus, *, n_histories=5, n_particles=None, event_data=None,
                 result=None, exclude_history=False, words=None):
    """A :class:`ModelReport` of one fitted model scored on ``corpus`` (``result``: its
    :func:`lla.evaluation.evaluate` result when already known, e.g. from ``lla compare``;
    ``words``: its :class:`RankedWords`, optional)."""
    if result is None:
        result = evaluate(model, corpus, n_particles=n_particles)
    summary = {"model": model.model_name, "held-out perplexity": result["perplexity"],
               "held-out tokens": result["heldout_tokens"],
               "dense parameters": result["parameters"]["dense"],
               "non-zeros": result["parameters"]["nonzero"]}
    for key in ("hr@10", "mrr"):
        if key in result:
            summary[key.upper()] = result[key]
    if "n_particles" in result:
        summary["particles (S)"] = result["n_particles"]
    if model.interruption():
        summary["training"] = model.interruption()
    report = ModelReport(name, summary)
    if model._has_topics():
        words = words or RankedWords(model)
        report.topics, extra = topic_rows(model, corpus, words=words)
        report.summary.update(extra)
        report.figures = topic_figures(model, words=words)
    if event_data if event_data is not None else "hr@10" in result:
        report.histories = history_rows(model, corpus, n_histories=n_histories,
                                        n_particles=n_particles,
                                        exclude_history=exclude_history)
    return report


def comparison(name_a, model_a, name_b, model_b, *, n_words=6, n_pairs=None, words=None):
    """Matched topic pairs of two models with topics (Hungarian on φ, 1 − JS); ``words``:
    optional {model name: :class:`RankedWords`}."""
    words = words or {}
    matching = match_topics(model_a.topic_word_, model_b.topic_word_)
    words_a = words.get(name_a, RankedWords(model_a))(n_words, DEFAULT_LAMBDA).labels
    words_b = words.get(name_b, RankedWords(model_b))(n_words, DEFAULT_LAMBDA).labels
    order = np.argsort(-matching.similarity, kind="stable")[:n_pairs]
    pairs = [MatchedPair(int(matching.pairs[i, 0]), words_a[matching.pairs[i, 0]],
                         int(matching.pairs[i, 1]), words_b[matching.pairs[i, 1]],
                         float(matching.similarity[i])) for i in order]
    return ModelComparison(name_a, name_b, pairs, metric=matching.metric)


def build_report(named_models, corpus, *, title=None, n_histories=5, n_particles=None,
                 results=None, exclude_history=False):
    """A :class:`Report` of ``named_models`` ([(name, model)]) on ``corpus``; with two or more
    models with topics, the first is compared with each other one.  ``results``: optional
    {name: evaluate() result} already computed; ``exclude_history``: the histories' predicted
    items never repeat an item of the history (rating data)."""
    start = time.perf_counter()
    results = results or {}
    words = {name: RankedWords(m) for name, m in named_models if m._has_topics()}
    models = [model_report(name, m, corpus, n_histories=n_histories, n_particles=n_particles,
                           result=results.get(name), exclude_history=exclude_history,
                           words=words.get(name))
              for name, m in named_models]
    topical = [(n, m) for n, m in named_models if m._has_topics()]
    comparisons = [comparison(*topical[0], *other, words=words) for other in topical[1:]]
    meta = {"corpus": str(corpus.path) if corpus.path else "in memory",
            "documents": len(corpus), "held-out protocol": getattr(corpus, "protocol", ""),
            "built in": f"{time.perf_counter() - start:.1f} s"}
    return Report(title or f"lla report: {', '.join(n for n, _ in named_models)}", models,
                  comparisons, meta)
