"""``lla compare``: train every model of the paper's comparison on one corpus, score each with the
one protocol of DESIGN §3, and write the table and the plots.

Layout of the output directory::

    DIR/runs/<run>/model.json, arrays.safetensors   the trained model (``lla.load_model``)
    DIR/runs/<run>/result.json                      its scores, sizes and training time
    DIR/results.json, DIR/results.md                every run, as data and as a table
    DIR/ppl_vs_size.png, ppl_vs_topics.png, joint_vs_independent.png, convergence.png
    DIR/report.html                                 the HTML report (:mod:`lla.report`)

A run is ``<model>`` or ``<model>-K<k>`` for models with topics.  Runs whose ``result.json``
exists are not trained again, so an interrupted comparison resumes where it stopped.
"""

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ._atomic import atomic_write_text, check_writable
from .base import registered_models
from .errors import ParameterError
from .evaluation.perplexity import is_event_corpus
from .params import flag_dest
from .report.compare_plots import plot_results

log = logging.getLogger(__name__)


@dataclass
class CompareSettings:
    """What a comparison trains: the numbers of topics, the seed shared by every model, and the
    values of ``lla compare``'s model options (``options``: {option name: value}, e.g.
    ``{"hidden": 64, "sem_iterations": 6}`` for ``--hidden 64 --sem-iterations 6``; an option
    sets the declared parameter of every model that has it, :mod:`lla.cli.model_options`;
    absent options leave each model's own default)."""

    topics: list = field(default_factory=lambda: [50])
    options: dict = field(default_factory=dict)
    seed: int = 0
    show_progress: bool = None
    masked: bool = False     # also rank with each history's items excluded (rating data)
    convergence: bool = False  # record each run's Fig. 8 curve (Model.convergence_curve)


#: the paper's comparison (DESIGN §4), in the order the runs are trained
DEFAULT_MODELS = ("unigram", "lda", "ddlda", "topic-lla", "word-lla", "char-lla", "word-lstm",
                  "char-lstm", "autoencoder", "independent")


def build_model(model_name, k, settings):
    """The unfitted model of one run: its class's defaults, overridden by the options that class
    declares, the seed, and K (for models with topics)."""
    cls = registered_models()[model_name]
    kwargs = {}
    for name, param in cls._parameters.items():
        flag = param.compare_flag
        value = settings.options.get(flag_dest(flag)) if flag else None
        if value is not None and name in cls._param_names():
            kwargs[name] = value
    names = cls._param_names()
    if "random_state" in names:
        kwargs["random_state"] = settings.seed
    if "show_progress" in names:
        kwargs["show_progress"] = settings.show_progress
    if k is not None:
        kwargs["n_topics"] = int(k)
    return cls(**kwargs)


def has_topics(model_name):
    """Whether a model has topics (declares ``n_topics``): it gets one run per K."""
    return "n_topics" in registered_models()[model_name]._param_names()


def plan_runs(models, topics):
    """[(run name, model name, K or None)] in the order they will be trained."""
    known = registered_models()
    unknown = [m for m in models if m not in known]
    if unknown:
        raise ParameterError(f"--models: unknown model {unknown[0]!r}; choose from "
                             f"{', '.join(known)}")
    if not topics or any(int(k) < 1 for k in topics):
        raise ParameterError("--topics needs at least one K >= 1")
    runs = []
    for m in models:
        if has_topics(m):
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
    model = build_model(model_name, k, settings)
    start = time.perf_counter()
    model.fit(corpus)
    train_seconds = time.perf_counter() - start
    model.save(run_dir / "model", force=True)
    result = evaluate(model, corpus, ranking="auto",
                      exclude_history="both" if settings.masked else False)
    result.update(run=run, model=model_name, topics=k, train_seconds=train_seconds,
                  params=_jsonable(model.get_params()),
                  convergence=[list(point) for point in (
                      model.convergence_curve(corpus) if settings.convergence
                      else model.convergence())])
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
    check_writable(out_dir / "results.json", force=True)   # before hours of training
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    bar = progress(runs, desc="compare", unit="model", enabled=settings.show_progress)
    for run, model_name, k in bar:
        bar.set_postfix_str(run)
        results.append(run_one(run, model_name, k, corpus, out_dir, settings))
    write_outputs(results, corpus, out_dir, settings, command)
    write_report(results, corpus, out_dir, exclude_history=settings.masked)
    return results


def write_report(results, corpus, out_dir, *, exclude_history=False):
    """DIR/report.html (:mod:`lla.report`): for every model its run with the largest K (and the
    models without topics), scored as in the table; topic models matched against the first;
    with ``exclude_history`` (``--masked``) the histories' predictions skip the history's items."""
    from .base import load_model
    from .report import write_html
    from .report.build import build_report
    chosen = {}
    for r in results:
        if r["model"] not in chosen or (r.get("topics") or 0) > (chosen[r["model"]].get("topics")
                                                                    or 0):
            chosen[r["model"]] = r
    named = [(r["run"], load_model(Path(out_dir) / "runs" / r["run"] / "model"))
             for r in chosen.values()]
    report = build_report(named, corpus, title=f"lla compare: {Path(out_dir).name}",
                          results={r["run"]: r for r in chosen.values()},
                          exclude_history=exclude_history)
    write_html(report, Path(out_dir) / "report.html")


# -- outputs -----------------------------------------------------------------------------------
#: the ranking columns of the table: the protocol's metrics (test targets for loo)
RANKING_COLUMNS = {"prefix60": (("hr@10", "HR@10"), ("mrr", "MRR")),
                   "loo": (("hr@10", "HR@10"), ("ndcg@10", "NDCG@10"), ("mrr@10", "MRR@10"))}


def results_table(results, ranking, protocol="prefix60"):
    columns = RANKING_COLUMNS.get(protocol, ()) if ranking else ()
    head = "| run | perplexity | dense parameters | non-zeros | train s | score s |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if columns and any("masked_hr@10" in r for r in results):
        columns = columns + tuple(("masked_" + k, "masked " + t) for k, t in columns)
    for _, title in columns:
        head += f" {title} |"
        rule += "---:|"
    rows = [head, rule]
    key = (lambda r: -(r.get("hr@10") or 0.0)) if protocol == "loo" else \
        (lambda r: r["perplexity"])
    for r in sorted(results, key=key):
        p = r["parameters"]
        row = (f"| {r['run']} | {r['perplexity']:.1f} | {p['dense']:,} | {p['nonzero']:,} | "
               f"{r['train_seconds']:.0f} | {r.get('scoring_seconds', float('nan')):.0f} |")
        for name, _ in columns:
            value = r.get(name)
            row += f" {value:.3f} |" if value is not None else " – |"
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
          f"held-out perplexity by DESIGN §3 ({_particles_text(results)}); "
          f"{_options_text(settings)}; {doc['date']}.", "",
          results_table(results, ranking, getattr(corpus, "protocol", "prefix60")), "",
          "![perplexity against model size](ppl_vs_size.png)", "",
          "![perplexity against K](ppl_vs_topics.png)", "",
          "![joint against independent training](joint_vs_independent.png)", ""]
    if any(r.get("convergence") for r in results):
        md += ["![validation perplexity against training time](convergence.png)", ""]
    atomic_write_text(out_dir / "results.md", "\n".join(md))
    plot_results(results, out_dir)


def _particles_text(results):
    counts = sorted({r["n_particles"] for r in results if "n_particles" in r})
    if not counts:
        return "every model scored exactly"
    return f"particle filters with S = {', '.join(map(str, counts))}"


def _options_text(settings):
    given = {k: v for k, v in settings.options.items() if v is not None}
    if not given:
        return "every model with its default settings"
    return "options " + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in sorted(given.items()))
