"""The figures of ``lla compare`` (DESIGN §5): the paper's Fig. 4 (perplexity against model
size), Fig. 5 (perplexity against K) and Table 4 (joint against independent training), drawn
with matplotlib from the result dicts of :func:`lla.compare.compare`.
"""

import io
from pathlib import Path

from .._atomic import atomic_write_bytes

#: the order in which models get their colour and marker (the same in every plot)
MODEL_ORDER = ("unigram", "lda", "ddlda", "topic-lla", "independent", "word-lla", "char-lla",
               "word-lstm", "char-lstm", "autoencoder")

_MARKERS = "osD^vP*Xhp<>"


def _rank(model_name):
    """The model's place in :data:`MODEL_ORDER` (models of a user come after, in name order)."""
    return (MODEL_ORDER.index(model_name), "") if model_name in MODEL_ORDER \
        else (len(MODEL_ORDER), model_name)


def _style(model_name, names=()):
    """The same marker and colour for a model in every plot (by its place in MODEL_ORDER;
    other models by their place among ``names``)."""
    i = MODEL_ORDER.index(model_name) if model_name in MODEL_ORDER else \
        len(MODEL_ORDER) + sorted(set(names) - set(MODEL_ORDER)).index(model_name)
    return {"marker": _MARKERS[i % len(_MARKERS)], "color": f"C{i % 10}"}


def _figure(width, height):
    """A matplotlib Figure and its axes, without pyplot (no global state, no backend choice)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def _save(fig, ax, path, title, xlabel=None, legend_size=8, ylabel="held-out perplexity"):
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=legend_size, ncol=2 if legend_size < 8 else 1)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=120)
    atomic_write_bytes(path, png.getvalue())


def plot_results(results, out_dir):
    """The paper's Fig. 4 (perplexity vs size), Fig. 5 (perplexity vs K), Table 4 (joint vs
    independent) as PNG files in ``out_dir``."""
    out_dir = Path(out_dir)
    _plot_size(results, out_dir / "ppl_vs_size.png")
    _plot_topics(results, out_dir / "ppl_vs_topics.png")
    _plot_joint(results, out_dir / "joint_vs_independent.png")
    if any(r.get("convergence") for r in results):
        plot_convergence(results, out_dir / "convergence.png")


def plot_convergence(results, path):
    """The paper's Fig. 8: validation perplexity (a split of the training prefixes) against
    training seconds, for every run that recorded it (``result["convergence"]``)."""
    fig, ax = _figure(6.8, 4.6)
    names = {r["model"] for r in results}
    for r in results:
        points = r.get("convergence") or []
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, label=r["run"], **_style(r["model"], names))
    ax.set_xscale("symlog", linthresh=1.0)
    ax.grid(alpha=0.3)
    _save(fig, ax, path, "Validation perplexity against training time",
          "training seconds", legend_size=7,
          ylabel="validation perplexity (split of the prefixes)")


def _plot_size(results, path):
    fig, ax = _figure(7.2, 4.8)
    by_name = {}
    for r in results:
        by_name.setdefault(r["model"], []).append(r)
    for name, rows in by_name.items():
        sizes = [max(r["parameters"]["total"], 1) for r in rows]
        ax.scatter(sizes, [r["perplexity"] for r in rows], s=36, label=name,
                   **_style(name, by_name))
        for r, size in zip(rows, sizes):
            if r.get("topics"):
                ax.annotate(f"K={r['topics']}", (size, r["perplexity"]), fontsize=6,
                            xytext=(4, -2), textcoords="offset points")
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    _save(fig, ax, path, "Perplexity against model size",
          "model size (dense parameters + non-zeros)", legend_size=7)


def _plot_topics(results, path):
    fig, ax = _figure(6.4, 4.4)
    by_model = {}
    for r in results:
        if r.get("topics"):
            by_model.setdefault(r["model"], []).append((r["topics"], r["perplexity"]))
    for name, points in sorted(by_model.items(), key=lambda item: _rank(item[0])):
        points.sort()
        ax.plot([k for k, _ in points], [p for _, p in points], label=name,
                **_style(name, by_model))
    all_k = sorted({k for points in by_model.values() for k, _ in points})
    if all_k:
        ax.set_xscale("log")
        ax.set_xticks(all_k, [str(k) for k in all_k])
        ax.minorticks_off()
    ax.grid(alpha=0.3)
    _save(fig, ax, path, "Perplexity against K", "number of topics K")


def _plot_joint(results, path):
    fig, ax = _figure(6.4, 4.4)
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
    _save(fig, ax, path, "Joint against independent training (topic-LLA)")
