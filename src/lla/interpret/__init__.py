"""Interpretation of fitted topics, model-independent: functions on arrays (DESIGN §5, §6).

* :mod:`.relevance` — top words by λ-relevance (Sievert & Shirley 2014) or probability.
* :mod:`.coherence` — NPMI coherence on a reference corpus, topic diversity.
* :mod:`.hierarchy` — agglomerative clustering of a topic embedding, dendrogram, 2-D topic map.
* :mod:`.transitions` — the empirical next-topic transition matrix and its heatmap.
* :mod:`.matching` — one-to-one matching of two models' topics (Hungarian on φ similarity).

Figures are plain ``matplotlib.figure.Figure`` objects (no pyplot state); render them with
:func:`figure_png` (PNG bytes) or ``fig.savefig``.
"""

from ._plots import figure_png
from .coherence import Coherence, corpus_npmi, npmi_coherence, topic_diversity
from .hierarchy import (TopicHierarchy, dendrogram_figure, topic_distances, topic_hierarchy,
                        topic_map, topic_map_figure)
from .matching import TopicMatching, match_topics, topic_similarity
from .relevance import DEFAULT_LAMBDA, TopWords, marginal_word_probability, relevance, top_words
from .transitions import transition_counts, transition_heatmap, transition_matrix

__all__ = [
    "Coherence", "corpus_npmi", "npmi_coherence", "topic_diversity",
    "TopicHierarchy", "dendrogram_figure", "topic_distances", "topic_hierarchy", "topic_map",
    "topic_map_figure",
    "TopicMatching", "match_topics", "topic_similarity",
    "DEFAULT_LAMBDA", "TopWords", "marginal_word_probability", "relevance", "top_words",
    "transition_counts", "transition_heatmap", "transition_matrix",
    "figure_png",
]
