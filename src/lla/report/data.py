"""The report's input: small dataclasses of plain Python values (DESIGN §5).

A :class:`Report` holds one :class:`ModelReport` per model and optional
:class:`ModelComparison` s of two models; :func:`lla.report.render_html` turns it into one
self-contained HTML page.  Every string here is treated as untrusted text (item names are user
data) and escaped when rendered.

Filling it from a fitted model (what ``lla report`` does)::

    top = top_words(phi, 10, p_w=p_w, names=vocab.types)
    coh = corpus_npmi(top_words(phi, 10, lam=1).ids, corpus)
    topics = [TopicRow(k, top.labels[k], npmi=coh.npmi[k], share=share[k]) for k in range(K)]
    figures = [ReportFigure.from_matplotlib(dendrogram_figure(h, top.short_labels(4)),
                                            "Topic hierarchy")]
    ModelReport("topic-LLA", {"perplexity": 612.3, "K": 100}, topics, figures, histories)
"""

from dataclasses import dataclass, field

from ..errors import ParameterError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class ReportFigure:
    """One figure, inlined in the page as a base64 PNG.

    Attributes
    ----------
    title : str, shown above the figure
    png : bytes, the PNG image
    caption : str, a sentence below it (optional)
    """

    title: str
    png: bytes
    caption: str = ""

    def __post_init__(self):
        if not isinstance(self.png, (bytes, bytearray)) or not self.png.startswith(_PNG_SIGNATURE):
            raise ParameterError(f"figure {self.title!r}: png must be the bytes of a PNG image")

    @classmethod
    def from_matplotlib(cls, fig, title, caption="", *, dpi=110):
        """Render a matplotlib Figure to PNG (``bbox_inches="tight"``, white background)."""
        from ..interpret._plots import figure_png

        return cls(title=title, png=figure_png(fig, dpi=dpi), caption=caption)


@dataclass
class TopicRow:
    """One row of a model's topic table.

    Attributes
    ----------
    topic : int, the topic id k
    words : list of str, its top words / item names, best first
    npmi : float or None, NPMI coherence of its top 10 words
    share : float or None, its share of the (training) tokens, in [0, 1]
    extra : dict column name → number or str, more columns (e.g. ``{"NPMI (enwiki)": 0.08}``);
        rows may have different keys, missing cells are left blank
    """

    topic: int
    words: list
    npmi: float | None = None
    share: float | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class HistoryRow:
    """One user's history with the model's reading of it and its prediction.

    Attributes
    ----------
    user : str, the user / document id
    history : list of str, the tail of the history shown (item names), oldest first
    topic_path : list of int, the topic z_t the model read for each item of ``history`` (same
        length; empty when the model has no topics)
    predicted_topics : list of (topic id, probability), the top next topics, best first
    predicted_items : list of (item name, probability), the top next items, best first
    actual_next : list of str, what the user did next (held-out items), first first
    """

    user: str
    history: list
    topic_path: list = field(default_factory=list)
    predicted_topics: list = field(default_factory=list)
    predicted_items: list = field(default_factory=list)
    actual_next: list = field(default_factory=list)

    def __post_init__(self):
        if self.topic_path and len(self.topic_path) != len(self.history):
            raise ParameterError(f"history of {self.user!r}: topic_path has "
                                 f"{len(self.topic_path)} entries for {len(self.history)} items")


@dataclass
class ModelReport:
    """Everything the page shows about one model.

    Attributes
    ----------
    name : str, e.g. "topic-LLA (K=100)"
    summary : dict metric name → number or str, e.g. ``{"perplexity": 612.3, "HR@10": 0.21}``
    topics : list of :class:`TopicRow`
    figures : list of :class:`ReportFigure` (dendrogram, topic map, transition heatmap, ...)
    histories : list of :class:`HistoryRow`
    notes : str, a paragraph of plain text shown under the summary (optional)
    """

    name: str
    summary: dict = field(default_factory=dict)
    topics: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    histories: list = field(default_factory=list)
    notes: str = ""


@dataclass
class MatchedPair:
    """Topic ``topic_a`` of model A matched to topic ``topic_b`` of model B."""

    topic_a: int
    words_a: list
    topic_b: int
    words_b: list
    similarity: float


@dataclass
class ModelComparison:
    """Two models side by side: their matched topic pairs, most similar first.

    Attributes
    ----------
    model_a, model_b : str, the two models' names (as in :attr:`ModelReport.name`)
    pairs : list of :class:`MatchedPair`
    metric : str, how similarity was measured (shown in the header)
    """

    model_a: str
    model_b: str
    pairs: list = field(default_factory=list)
    metric: str = "1 − Jensen–Shannon divergence of φ rows"

    @classmethod
    def from_matching(cls, matching, model_a, model_b, words_a, words_b):
        """Build from a :class:`lla.interpret.matching.TopicMatching` and each model's top
        words (``words_a[k]``: list of str for topic k of A; likewise B)."""
        pairs = [MatchedPair(int(a), list(words_a[a]), int(b), list(words_b[b]), float(s))
                 for (a, b), s in zip(matching.pairs, matching.similarity)]
        metric = {"jensen-shannon": "1 − Jensen–Shannon divergence of φ rows",
                  "cosine": "cosine similarity"}.get(matching.metric, matching.metric)
        return cls(model_a, model_b, pairs, metric)


@dataclass
class Report:
    """The whole page.

    Attributes
    ----------
    title : str
    models : list of :class:`ModelReport` (one section each; their summaries are also shown
        side by side at the top when there are several)
    comparisons : list of :class:`ModelComparison`
    metadata : dict label → str/number shown under the title (corpus, command, lla version)
    """

    title: str
    models: list = field(default_factory=list)
    comparisons: list = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
