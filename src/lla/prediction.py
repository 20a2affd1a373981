"""What comes next for a history, and why (DESIGN §5): the one code path behind
``model.predict_next``, ``lla predict``, the report's history table and the ranking metrics.

Every model provides ``_predictive(corpus, consume, n_particles)``: it runs its own scoring
machinery over ``corpus``'s documents (prefix and suffix, as held-out scoring does) and calls

    consume(out, scores, is_log, topic_probs)

for chunks of held-out positions: ``out`` int64 (M,) their indices in the corpus's suffix order,
``scores`` float (M, V) the predictive p(· | w_<t) over the vocabulary (log-probabilities if
``is_log``), ``topic_probs`` float (M, K) the next-topic distribution (θ̄_t; None for models
without topics).  Then

* :func:`heldout_ranks` ranks the true held-out tokens under those scores (HR@10, MRR);
* :func:`predict_next` puts each raw history in a document of its own, followed by one
  placeholder token that is the only held-out position, and reads off the top topics and items
  there — so a prediction is exactly the distribution that ranking uses at that position.

The explanation of a prediction — how the model read the history — is each model's
``_predictive(..., explain=True)`` (from the same pass): per document, the topic of every prefix token (topic-LLA: the
particle filter's filtered z_t, argmax of Σ_s W_s π^s_t; word-/char-LLA: argmax θ_t·φ_{w_t};
ddLDA and the independent learner: as topic-LLA) or, for LDA, the document's θ_d.
"""

from dataclasses import dataclass, field

import numpy as np

from .errors import InputError, ParameterError
from .evaluation.ranking import history_mask, rank_of_true


@dataclass
class Prediction:
    """The prediction for one history.

    history : the history as the model read it (vocabulary types; unknown items as ``<unk>``)
    unknown : the raw items of the history that are not in the vocabulary
    items : [(type, probability)], the most probable next items, best first
    topics : [(topic, probability)], the most probable next topics (None without topics)
    topic_words : {topic: [top words]} of the topics in ``topics`` and ``path``
    path : the topic the model assigned to each history item (None for LDA and models without
        topics)
    names : {type: name} of the items shown that have a name (e.g. film titles)
    history_topics : [(topic, share)] of the whole history (LDA: θ_d; the others: the path's
        topic frequencies), None without topics
    """

    history: list
    unknown: list
    items: list
    topics: list = None
    topic_words: dict = field(default_factory=dict)
    path: list = None
    history_topics: list = None
    names: dict = field(default_factory=dict)

    def label(self, item):
        """An item's name if it has one, else its type string."""
        return self.names.get(item, item)

    def as_dict(self):
        """JSON-able form (``lla predict --format json``)."""
        return {"history": self.history, "unknown": self.unknown,
                "items": [{"item": i, "name": self.label(i), "probability": p}
                          for i, p in self.items],
                "topics": None if self.topics is None else
                [{"topic": k, "probability": p, "words": self.topic_words.get(k, [])}
                 for k, p in self.topics],
                "path": self.path,
                "history_topics": None if self.history_topics is None else
                [{"topic": k, "share": s} for k, s in self.history_topics]}


def encode_histories(histories, vocab):
    """Raw histories (lists of item strings, or of integer ids) as id arrays.  Returns (ids:
    list of int64 arrays, unknown: list of lists of the raw items mapped to ``<unk>``)."""
    index = vocab.index
    V = len(vocab)
    ids, unknown = [], []
    for h in histories:
        if isinstance(h, (str, bytes)):
            raise ParameterError("a history is a sequence of items, not one string")
        row, missing = [], []
        for item in h:
            if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                if not 0 <= int(item) < V:
                    raise InputError(f"item id {int(item)} is outside the vocabulary [0, {V})")
                row.append(int(item))
            else:
                i = index.get(str(item), 0)
                if i == 0:
                    missing.append(str(item))
                row.append(i)
        ids.append(np.asarray(row, dtype=np.int64))
        unknown.append(missing)
    return ids, unknown


def history_corpus(ids, vocab):
    """A corpus whose document b is history b followed by one placeholder token (``<unk>``):
    the placeholder is the only held-out position, so the predictive there is p(· | history)
    (it never depends on the placeholder itself)."""
    from .data import Corpus
    docs = [np.append(h, 0) for h in ids]
    corpus = Corpus.from_documents(docs, vocab, meta={"source": "histories"})
    return corpus.with_prefix_lengths([len(h) for h in ids])


def predict_next(model, histories, *, n_topics=3, n_items=10, n_words=5, n_particles=None,
                 exclude_history=False):
    """:meth:`lla.Model.predict_next` (see there)."""
    model._check_fitted()
    if n_items < 1 or n_topics < 0 or n_words < 0:
        raise ParameterError("n_items must be >= 1, n_topics and n_words >= 0")
    vocab = model._vocabulary()
    ids, unknown = encode_histories(histories, vocab)
    if not ids:
        return []
    corpus = history_corpus(ids, vocab)
    B, V = len(ids), len(vocab)
    names = model._display_names()
    top_items = [None] * B
    topic_probs = [None] * B

    def consume(out, scores, is_log, topics):
        scores = np.asarray(scores, dtype=np.float64)
        probs = np.exp(scores) if is_log else scores
        probs = probs / probs.sum(axis=1, keepdims=True)
        if exclude_history:
            probs = np.where(history_mask([ids[o] for o in out], V), 0.0, probs)
        if V > 1:
            probs[:, 0] = 0.0                             # never propose <unk>
        k = min(int(n_items), V)
        best = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        for row, o in enumerate(out):
            top_items[o] = [(vocab.types[i], float(probs[row, i])) for i in best[row]]
            if topics is not None:
                topic_probs[o] = np.asarray(topics[row], dtype=np.float64)

    explanation = model._predictive(corpus, consume, n_particles=n_particles, explain=True)
    if explanation is None:
        explanation = [None] * B
    predictions = []
    for b in range(B):
        p = Prediction(history=[vocab.types[i] for i in ids[b]], unknown=unknown[b],
                       items=top_items[b])
        shown = [vocab.index[t] for t, _ in p.items] + list(ids[b])
        p.names = {vocab.types[i]: names[i] for i in shown if names[i] != vocab.types[i]}
        if topic_probs[b] is not None:
            theta = topic_probs[b] / topic_probs[b].sum()
            order = np.argsort(-theta, kind="stable")[:int(n_topics)]
            p.topics = [(int(k), float(theta[k])) for k in order]
        exp = explanation[b]
        if exp is not None:
            exp = np.asarray(exp)
            if exp.ndim == 1 and exp.dtype.kind == "f":          # θ_d (LDA)
                order = np.argsort(-exp, kind="stable")[:max(int(n_topics), 1)]
                p.history_topics = [(int(k), float(exp[k])) for k in order]
            else:                                                # a topic per history item
                p.path = [int(k) for k in exp]
                if len(exp):
                    counts = np.bincount(exp, minlength=1)
                    order = np.argsort(-counts, kind="stable")[:max(int(n_topics), 1)]
                    p.history_topics = [(int(k), float(counts[k] / len(exp)))
                                        for k in order if counts[k]]
                else:
                    p.history_topics = []
        if n_words and (p.topics or p.path):
            shown = {k for k, _ in (p.topics or [])} | set(p.path or []) | \
                {k for k, _ in (p.history_topics or [])}
            words = words_of_topics(model, n_words)
            p.topic_words = {k: words[k] for k in sorted(shown)}
        predictions.append(p)
    return predictions


def words_of_topics(model, n_words):
    """The λ-relevance words (with item names) of every topic, computed once per model."""
    cache = getattr(model, "_words_cache", None)
    if cache is None or cache[0] != n_words:
        from .interpret.relevance import DEFAULT_LAMBDA
        cache = (n_words, model.topic_words(n_words, lam=DEFAULT_LAMBDA).labels)
        model._words_cache = cache
    return cache[1]


def heldout_ranks(model, corpus, *, n_particles=None, exclude_history=False, **options):
    """:meth:`lla.Model.heldout_ranks` (see there): the rank of every held-out token under the
    predictive of ``_predictive``, documents in order.  ``exclude_history="both"`` returns
    (unmasked ranks, ranks with the history's items excluded) from one pass."""
    model._check_vocabulary(corpus)
    true, doc_ptr = corpus.suffix_arrays()
    ranks = np.zeros(len(true), dtype=np.int64)
    masked = np.zeros(len(true), dtype=np.int64) if exclude_history else None
    if exclude_history:
        doc_of = np.repeat(np.arange(len(corpus)), np.diff(doc_ptr))
        position = np.arange(len(true)) - doc_ptr[doc_of] + corpus.prefix_lengths[doc_of]

    def consume(out, scores, is_log, topics):
        if exclude_history is not True:
            ranks[out] = rank_of_true(scores, true[out])
        if exclude_history:
            mask = history_mask([corpus[int(d)][:int(t)] for d, t in zip(doc_of[out],
                                                                         position[out])],
                                scores.shape[1])
            masked[out] = rank_of_true(scores, true[out], exclude=mask)

    model._predictive(corpus, consume, n_particles=n_particles, **options)
    if exclude_history == "both":
        return ranks, masked
    return masked if exclude_history else ranks
