"""Topic quality measured, not shown (issue 11 item 5): NPMI of every topic's top-10 words and
topic diversity, for several trained models on one or more reference corpora, and LDA's topics
matched to each other model's (Hungarian on φ) side by side — the quantitative Table 2/3.

    python benchmarks/topic_quality.py MODEL_DIR [MODEL_DIR ...] --reference NAME=CORPUS
        [--reference NAME=CORPUS ...] [--out DIR] [--pairs 10]

A reference corpus must have the models' vocabulary (``lla prepare --vocabulary``); the name
``train`` means the models' training prefixes (whole documents otherwise).  Writes
DIR/topic_quality.json, topic_quality.md (tables) and npmi.png (per-topic distributions).
"""

import argparse
import json
from pathlib import Path

import numpy as np

import lla
from lla.interpret import DEFAULT_LAMBDA, corpus_npmi, match_topics, topic_diversity


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--reference", action="append", default=[], metavar="NAME=CORPUS")
    ap.add_argument("--out", default="topic_quality")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--skip-frequent", type=int, default=0, metavar="N",
                    help="also score each topic's top 10 by probability among the words that are "
                         "not the N most frequent of the training prefixes (vocabulary ids "
                         "1..N): a stop-word list by a fixed rule, for language-model vocabularies")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    models = [(lla.base.model_label(p), lla.load_model(p)) for p in args.models]
    refs = [r.split("=", 1) for r in (args.reference or ["train=train"])]
    rows, per_topic = [], {}
    for name, model in models:
        top10 = model.topic_words(10, lam=1.0, names=False).ids
        top10_rel = model.topic_words(10, lam=DEFAULT_LAMBDA, names=False).ids
        n_skip = int(args.skip_frequent)
        top10_skip = [[w for w in ids if w > n_skip][:10] for ids in
                      model.topic_words(10 + n_skip, lam=1.0, names=False).ids]
        row = {"model": name, "K": len(top10),
               "diversity@25": topic_diversity(model.topic_words(25, lam=1.0, names=False).ids)}
        for ref_name, path in refs:
            if path == "train":
                corpus, part = lla.Corpus.open(model.corpus_path_), "prefix"
            else:
                corpus, part = lla.Corpus.open(path), "all"
            model._check_vocabulary(corpus)
            c = corpus_npmi(top10, corpus, part=part)
            per_topic[(name, ref_name)] = c.npmi.tolist()
            row[f"npmi_{ref_name}_mean"] = float(np.mean(c.npmi))
            row[f"npmi_{ref_name}_median"] = float(np.median(c.npmi))
            row[f"npmi_{ref_name}_q10"] = float(np.quantile(c.npmi, 0.1))
            row[f"npmi_{ref_name}_q90"] = float(np.quantile(c.npmi, 0.9))
            # the words lla shows (λ-relevance), scored the same way and labelled as such
            row[f"npmi_{ref_name}_relevance_mean"] = float(np.mean(
                corpus_npmi(top10_rel, corpus, part=part).npmi))
            if n_skip:
                row[f"npmi_{ref_name}_skip_mean"] = float(np.mean(
                    corpus_npmi(top10_skip, corpus, part=part).npmi))
        rows.append(row)
        print(json.dumps(row), flush=True)
    skip = f" | NPMI {{r}}, without the {args.skip_frequent} most frequent" \
        if args.skip_frequent else ""
    md = ["| model | K | diversity (top 25) | " + " | ".join(
        f"NPMI {r} mean / median [10 %, 90 %] | NPMI {r}, λ = {DEFAULT_LAMBDA} words"
        + skip.format(r=r) for r, _ in refs) + " |",
          "|---|---:|---:|" + ("---:|---:|" + ("---:|" if skip else "")) * len(refs)]
    for row in rows:
        md.append(f"| {row['model']} | {row['K']} | {row['diversity@25']:.3f} | " + " | ".join(
            f"{row[f'npmi_{r}_mean']:.3f} / {row[f'npmi_{r}_median']:.3f} "
            f"[{row[f'npmi_{r}_q10']:.3f}, {row[f'npmi_{r}_q90']:.3f}] | "
            f"{row[f'npmi_{r}_relevance_mean']:.3f}"
            + (f" | {row[f'npmi_{r}_skip_mean']:.3f}" if skip else "") for r, _ in refs) + " |")
    # matched pairs: the first model against every other
    base_name, base = models[0]
    base_words = base.topic_words(8, lam=DEFAULT_LAMBDA).labels
    for name, model in models[1:]:
        m = match_topics(base.topic_word_, model.topic_word_)
        words = model.topic_words(8, lam=DEFAULT_LAMBDA).labels
        ref = refs[0][0]
        npmi_a, npmi_b = per_topic[(base_name, ref)], per_topic[(name, ref)]
        md += ["", f"Matched topics, {base_name} → {name} (1 − Jensen–Shannon; mean over all "
                   f"{len(m.pairs)} pairs {m.mean_similarity:.3f}); {args.pairs} pairs at evenly "
                   f"spaced ranks of similarity, best to worst (a fixed rule, not picked); words "
                   f"by λ-relevance, NPMI on {ref} (top 10 by probability):", "",
               f"| sim | {base_name} | NPMI | {name} | NPMI |", "|---:|---|---:|---|---:|"]
        order = np.argsort(-m.similarity, kind="stable")
        ranks = np.unique(np.linspace(0, len(order) - 1, min(args.pairs, len(order))).round())
        for i in order[ranks.astype(int)]:
            a, b = m.pairs[i]
            md.append(f"| {m.similarity[i]:.2f} | {' · '.join(base_words[a])} | "
                      f"{npmi_a[a]:.3f} | {' · '.join(words[b])} | {npmi_b[b]:.3f} |")
    (out / "topic_quality.md").write_text("\n".join(md) + "\n")
    (out / "topic_quality.json").write_text(json.dumps(
        {"rows": rows, "per_topic": {f"{k[0]}|{k[1]}": v for k, v in per_topic.items()}},
        indent=2))
    _plot(per_topic, refs, out / "npmi.png")
    print("\n".join(md))


def _plot(per_topic, refs, path):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(3.6 * len(refs) + 1, 3.8))
    axes = fig.subplots(1, len(refs), squeeze=False)[0]
    for ax, (ref, _) in zip(axes, refs):
        names = [m for (m, r) in per_topic if r == ref]
        ax.boxplot([per_topic[(m, ref)] for m in names], tick_labels=names)
        ax.set_title(f"NPMI of each topic ({ref})")
        ax.tick_params(axis="x", labelrotation=20)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
