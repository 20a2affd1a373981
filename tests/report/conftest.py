"""A sample report built end to end with lla.interpret from a planted two-model setup."""

import numpy as np
import pytest

from lla.interpret import (corpus_npmi, dendrogram_figure, marginal_word_probability,
                           match_topics, top_words, topic_hierarchy, topic_map,
                           topic_map_figure, transition_heatmap, transition_matrix)
from lla.report import (HistoryRow, ModelComparison, ModelReport, Report, ReportFigure,
                        TopicRow)

HOSTILE = '<script>alert("x")</script> & "Amélie" \'quoted\''


def _names(V):
    names = [f"Film {i:03d} ({1950 + i % 70})" for i in range(V)]
    names[0] = "<unk>"
    names[7] = HOSTILE
    return names


def _model(name, phi, embedding, z, lengths, names, corpus, rng, n_users=8):
    K = phi.shape[0]
    p_w = marginal_word_probability(phi, np.bincount(z, minlength=K))
    top = top_words(phi, 10, p_w=p_w, names=names)
    coherence = corpus_npmi(top_words(phi, 10, lam=1).ids, corpus)
    share = np.bincount(z, minlength=K) / z.size
    topics = [TopicRow(k, top.labels[k], npmi=float(coherence.npmi[k]), share=float(share[k]),
                       extra={"NPMI (all)": float(coherence.npmi[k]) - 0.01})
              for k in range(K)]
    tree = topic_hierarchy(embedding)
    coords, explained = topic_map(tree.distances)
    P, _ = transition_matrix(z, lengths, K)
    short = top.short_labels(2)
    figures = [
        ReportFigure.from_matplotlib(dendrogram_figure(tree, top.short_labels(4)),
                                     "Topic hierarchy", "cosine distance, average linkage"),
        ReportFigure.from_matplotlib(topic_map_figure(coords, short, sizes=share,
                                                      clusters=tree.clusters(3),
                                                      explained=explained), "Topic map"),
        ReportFigure.from_matplotlib(transition_heatmap(P, short, order=tree.order),
                                     "Next-topic transitions", "ordered by the hierarchy"),
    ]
    histories = []
    for u in range(n_users):
        hist = rng.integers(1, len(names), size=6)
        path = rng.integers(0, K, size=6)
        nxt = rng.integers(1, len(names), size=3)
        items = [int(nxt[0])] + list(rng.integers(1, len(names), size=4))
        histories.append(HistoryRow(
            user=f"user {u}" if u else HOSTILE,
            history=[names[i] for i in hist],
            topic_path=[int(t) for t in path],
            predicted_topics=[(int(k), float(p)) for k, p in zip(rng.permutation(K)[:3],
                                                                  (0.41, 0.22, 0.09))],
            predicted_items=[(names[i], 0.1 / (r + 1)) for r, i in enumerate(items)],
            actual_next=[names[i] for i in nxt]))
    summary = {"perplexity": 612.25 + rng.random(), "parameters": 1_234_567, "K": K,
               "HR@10": 0.213, "MRR": 0.0871, "NPMI (mean)": coherence.mean,
               "note": "synthetic"}
    return ModelReport(name, summary, topics, figures, histories,
                       notes="A planted synthetic model used by the tests. " + HOSTILE), top


def build_sample_report(seed=0, K=12, groups=3):
    """A :class:`Report` with two planted models (B = A's topics permuted and perturbed)."""
    from lla.data.store import Corpus

    rng = np.random.default_rng(seed)
    V = 20 * K + 20
    phi = np.full((K, V), 1e-3)
    for k in range(K):
        phi[k, 1 + 20 * k:1 + 20 * (k + 1)] += rng.dirichlet(np.ones(20)) * 5
    phi /= phi.sum(axis=1, keepdims=True)
    centres = rng.normal(size=(groups, 16)) * 3
    embedding = centres[np.arange(K) % groups] + rng.normal(size=(K, 16)) * 0.5
    lengths = rng.integers(5, 60, size=200)
    # topic sequences: stay in the topic's group with probability 0.8 (a visible block structure)
    z = np.empty(int(lengths.sum()), dtype=np.int64)
    z[0] = 0
    for t in range(1, z.size):
        same = rng.random() < 0.8
        z[t] = (rng.integers(K // groups) * groups + z[t - 1] % groups) if same \
            else rng.integers(K)
    words = np.array([rng.choice(V, p=phi[k]) for k in z], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    corpus = Corpus.from_documents([words[offsets[d]:offsets[d + 1]] for d in range(200)], V)
    names = _names(V)
    model_a, top_a = _model(f"topic-LLA (K={K})", phi, embedding, z, lengths, names, corpus, rng)
    perm = rng.permutation(K)
    phi_b = phi[perm] * rng.uniform(0.7, 1.3, size=phi.shape)
    phi_b /= phi_b.sum(axis=1, keepdims=True)
    inverse = np.argsort(perm)
    model_b, top_b = _model(f"LDA (K={K})", phi_b, embedding[perm], inverse[z], lengths, names,
                            corpus, rng)
    matching = match_topics(phi, phi_b)
    comparison = ModelComparison.from_matching(matching, model_a.name, model_b.name,
                                               top_a.labels, top_b.labels)
    return Report("lla report — synthetic test page", [model_a, model_b], [comparison],
                  metadata={"corpus": "synthetic (200 documents)", "reference": HOSTILE,
                            "documents": 200})


@pytest.fixture(scope="session")
def sample_report():
    return build_sample_report()


@pytest.fixture
def fresh_report():
    """A sample report of one's own (tests may change it)."""
    return build_sample_report()
