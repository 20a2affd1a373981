"""``lla compare``: train every model of the paper's comparison on one corpus, score each with the
one protocol of DESIGN §3, and write the table and the plots.

Layout of the output directory::

    DIR/runs/<run>/model.json, arrays.safetensors   the trained model (``lla.load_model``)
    DIR/runs/<run>/result.json                      its scores, sizes and training time
    DIR/results.json, DIR/results.md                every run, as data and as a table
    DIR/ppl_vs_size.png, ppl_vs_topics.png, joint_vs_independent.png

A run is ``<model>`` or ``<model>-K<k>`` for models with topics.  Runs whose ``result.json``
exists are not trained again, so an interrupted comparison resumes where it stopped.
"""

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ._atomic import atomic_write_text
from .errors import ParameterError
from .evaluation.perplexity import is_event_corpus

log = logging.getLogger(__name__)


@dataclass
class CompareSettings:
    """Sizes and budgets shared by every model of a comparison."""

    topics: list = field(default_factory=lambda: [50])
    embedding_size: int = 128
    hidden_size: int = 128
    lda_iter: int = 200          # LDA / ddLDA sweeps, and LLA's LDA initialisation
    sem_iter: int = 10           # SEM iterations of the LLA variants
    init_lstm_epochs: int = 10   # LLA: LSTM epochs on LDA's assignments (iteration 0)
    lstm_epochs_per_iter: int = 2  # LLA: LSTM epochs per SEM iteration
    batch_size: int = 32         # LLA: documents per LSTM minibatch
    lstm_epochs: int = 5         # (maximum) epochs of the LSTM language models and autoencoder
    lm_validation: bool = True   # LMs/autoencoder: early stopping on a split of the prefixes
    n_particles: int = 16        # S of the particle filters (topic-LLA, ddLDA, independent)
    seed: int = 0
    device: str = "cpu"
    show_progress: bool = None


def _topic_lla(cls_name):
    def make(k, s):
        import lla
        cls = getattr(lla, cls_name)
        kwargs = dict(embedding_size=s.embedding_size, hidden_size=s.hidden_size,
                      n_iter=s.sem_iter, init_lda_iter=s.lda_iter,
                      init_lstm_epochs=s.init_lstm_epochs,
                      lstm_epochs_per_iter=s.lstm_epochs_per_iter, batch_size=s.batch_size,
                      device=s.device, random_state=s.seed, show_progress=s.show_progress)
        return cls(k, **{key: v for key, v in kwargs.items() if key in cls._param_names()})
    return make


def _lda(k, s):
    from .models import LDA
    return LDA(k, n_iter=s.lda_iter, random_state=s.seed, show_progress=s.show_progress)


def _ddlda(k, s):
    from .models import DDLDA
    return DDLDA(k, n_iter=s.lda_iter, n_particles=s.n_particles, random_state=s.seed)


def _lm(cls_name):
    def make(_, s):
        import lla
        cls = getattr(lla, cls_name)
        kwargs = dict(embedding_size=s.embedding_size, hidden_size=s.hidden_size,
                      n_epochs=s.lstm_epochs, validation=s.lm_validation, device=s.device,
                      random_state=s.seed, show_progress=s.show_progress)
        return cls(**{key: v for key, v in kwargs.items() if key in cls._param_names()})
    return make


def _autoencoder(_, s):
    """The autoencoder keeps its own defaults (code 50, up to 200 cheap epochs with early
    stopping on a split of the prefixes): the LSTMs' epoch budget would leave it unfitted."""
    from .models import Autoencoder
    return Autoencoder(device=s.device, random_state=s.seed, show_progress=s.show_progress)


def _unigram(_, s):
    from .models import Unigram
    return Unigram()


#: name -> (has topics, factory(K or None, settings) -> unfitted model)
MODELS = {
    "unigram": (False, _unigram),
    "lda": (True, _lda),
    "ddlda": (True, _ddlda),
    "topic-lla": (True, _topic_lla("TopicLLA")),
    "independent": (True, _topic_lla("IndependentLLA")),
    "word-lla": (True, _topic_lla("WordLLA")),
    "char-lla": (True, _topic_lla("CharLLA")),
    "word-lstm": (False, _lm("WordLSTM")),
    "char-lstm": (False, _lm("CharLSTM")),
    "autoencoder": (False, _autoencoder),
}
DEFAULT_MODELS = ("unigram", "lda", "ddlda", "topic-lla", "word-lla", "char-lla", "word-lstm",
                  "char-lstm", "autoencoder", "independent")


def plan_runs(models, topics):
    """[(run name, model name, K or None)] in the order they will be trained."""
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ParameterError(f"--models: unknown model {unknown[0]!r}; choose from "
                             f"{', '.join(MODELS)}")
    if not topics or any(int(k) < 1 for k in topics):
        raise ParameterError("--topics needs at least one K >= 1")
    runs = []
    for m in models:
        if MODELS[m][0]:
            runs += [(f"{m}-K{int(k)}", m, int(k)) for k in topics]
        else:
            runs.append((m, m, None))
    return runs


def run_one(run, model_name, k, corpus, out_dir, settings):
    """Train, save and score one run; returns its result dict (reads it back if done)."""
    from .evaluation import evaluate

    run_dir = Path(out_dir) / "runs" / run
    result_path = run_dir / "result.json"
    if result_path.exists():
        log.info("%s: already done, skipped", run)
        return json.loads(result_path.read_text(encoding="utf-8"))
    model = MODELS[model_name][1](k, settings)
    start = time.perf_counter()
    model.fit(corpus)
    train_seconds = time.perf_counter() - start
    model.save(run_dir / "model", force=True)
    result = evaluate(model, corpus, ranking="auto", n_particles=settings.n_particles)
    result.update(run=run, model=model_name, topics=k, train_seconds=train_seconds,
                  params=_jsonable(model.get_params()))
    atomic_write_text(result_path, json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result


def _jsonable(d):
    return {k: (v if isinstance(v, (int, float, str, bool, type(None), list)) else repr(v))
            for k, v in d.items()}


def compare(corpus, out_dir, models=DEFAULT_MODELS, settings=None, command=None):
    """Run the comparison; returns the list of result dicts (one per run)."""
    from ._progress import progress

    settings = settings or CompareSettings()
    runs = plan_runs(models, settings.topics)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    bar = progress(runs, desc="compare", unit="model", enabled=settings.show_progress)
    for run, model_name, k in bar:
        bar.set_postfix_str(run)
        results.append(run_one(run, model_name, k, corpus, out_dir, settings))
    write_outputs(results, corpus, out_dir, settings, command)
    return results


# -- outputs -----------------------------------------------------------------------------------
def results_table(results, ranking):
    head = "| run | perplexity | dense parameters | non-zeros | train s | score s |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if ranking:
        head += " HR@10 | MRR |"
        rule += "---:|---:|"
    rows = [head, rule]
    for r in sorted(results, key=lambda r: r["perplexity"]):
        p = r["parameters"]
        row = (f"| {r['run']} | {r['perplexity']:.1f} | {p['dense']:,} | {p['nonzero']:,} | "
               f"{r['train_seconds']:.0f} | {r.get('scoring_seconds', float('nan')):.0f} |")
        if ranking:
            hr, mrr = r.get("hr@10"), r.get("mrr")
            row += (f" {hr:.3f} |" if hr is not None else " – |") + \
                   (f" {mrr:.3f} |" if mrr is not None else " – |")
        rows.append(row)
    return "\n".join(rows)


def write_outputs(results, corpus, out_dir, settings, command=None):
    out_dir = Path(out_dir)
    ranking = is_event_corpus(corpus)
    doc = {"command": command, "corpus": str(corpus.path) if corpus.path else None,
           "corpus_statistics": corpus.meta.get("statistics") or corpus.statistics(),
           "settings": asdict(settings), "date": time.strftime("%Y-%m-%d"), "results": results}
    atomic_write_text(out_dir / "results.json", json.dumps(doc, indent=2, sort_keys=True) + "\n")
    stats = doc["corpus_statistics"]
    name = Path(doc["corpus"]).name if doc["corpus"] else "corpus"
    md = [f"# Comparison on {name}", "",
          f"Command: `{command}`" if command else "", "",
          f"{stats['n_docs']:,} documents, {stats['n_prefix_tokens']:,} training / "
          f"{stats['n_suffix_tokens']:,} held-out tokens, V = {stats['vocab_size']:,}; "
          f"held-out perplexity by DESIGN §3 (particle filters with S = {settings.n_particles}); "
          f"E = {settings.embedding_size}, H = {settings.hidden_size}; {doc['date']}.", "",
          results_table(results, ranking), "",
          "![perplexity against model size](ppl_vs_size.png)", "",
          "![perplexity against K](ppl_vs_topics.png)", "",
          "![joint against independent training](joint_vs_independent.png)", ""]
    atomic_write_text(out_dir / "results.md", "\n".join(md))
    plot_results(results, out_dir)


_MARKERS = "osD^vP*Xhp<>"


def _style(model_name):
    """The same marker and colour for a model in every plot (by its place in MODELS)."""
    i = list(MODELS).index(model_name)
    return {"marker": _MARKERS[i % len(_MARKERS)], "color": f"C{i % 10}"}


def _save(plt, fig, ax, path, title, xlabel=None, legend_size=8):
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_ylabel("held-out perplexity")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=legend_size, ncol=2 if legend_size < 8 else 1)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_results(results, out_dir):
    """The paper's Fig. 4 (perplexity vs size), Fig. 5 (perplexity vs K), Table 4 (joint vs
    independent) as PNG files in ``out_dir``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    _plot_size(plt, results, out_dir / "ppl_vs_size.png")
    _plot_topics(plt, results, out_dir / "ppl_vs_topics.png")
    _plot_joint(plt, results, out_dir / "joint_vs_independent.png")


def _plot_size(plt, results, path):
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    by_name = {}
    for r in results:
        by_name.setdefault(r["model"], []).append(r)
    for name, rows in by_name.items():
        sizes = [max(r["parameters"]["total"], 1) for r in rows]
        ax.scatter(sizes, [r["perplexity"] for r in rows], s=36, label=name, **_style(name))
        for r, size in zip(rows, sizes):
            if r.get("topics"):
                ax.annotate(f"K={r['topics']}", (size, r["perplexity"]), fontsize=6,
                            xytext=(4, -2), textcoords="offset points")
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    _save(plt, fig, ax, path, "Perplexity against model size",
          "model size (dense parameters + non-zeros)", legend_size=7)


def _plot_topics(plt, results, path):
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    by_model = {}
    for r in results:
        if r.get("topics"):
            by_model.setdefault(r["model"], []).append((r["topics"], r["perplexity"]))
    for name, points in sorted(by_model.items(), key=lambda item: list(MODELS).index(item[0])):
        points.sort()
        ax.plot([k for k, _ in points], [p for _, p in points], label=name, **_style(name))
    all_k = sorted({k for points in by_model.values() for k, _ in points})
    if all_k:
        ax.set_xscale("log")
        ax.set_xticks(all_k, [str(k) for k in all_k])
        ax.minorticks_off()
    ax.grid(alpha=0.3)
    _save(plt, fig, ax, path, "Perplexity against K", "number of topics K")


def _plot_joint(plt, results, path):
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    pairs = {}
    for r in results:
        if r["model"] in ("topic-lla", "independent"):
            pairs.setdefault(r["topics"], {})[r["model"]] = r["perplexity"]
    ks = sorted(pairs)
    width = 0.38
    for i, (name, label) in enumerate([("independent", "independent learner"),
                                        ("topic-lla", "joint (SEM)")]):
        xs = [j + (i - 0.5) * width for j in range(len(ks))]
        ys = [pairs[k].get(name, float("nan")) for k in ks]
        ax.bar(xs, ys, width=width, label=label if ks else None)
    ax.set_xticks(range(len(ks)), [f"K={k}" for k in ks])
    _save(plt, fig, ax, path, "Joint against independent training (topic-LLA)")
