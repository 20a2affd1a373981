"""The paper's §4.3 example on real data (issue 11 item 8): for a few held-out users of an event
corpus with item names, each model's top-3 next topics with their top items, next to what the
user actually did next.

    python benchmarks/interpretation_example.py CORPUS MODEL_DIR [MODEL_DIR ...] [--users 4]
        [--min-history 20] [--out example.md]

Users are chosen by a fixed rule, not for a good story: the first ``--users`` users (corpus
order) with at least ``--min-history`` training events.  The history given to every model is the
user's whole training prefix; "what came next" is the first three held-out events.
"""

import argparse
from pathlib import Path

import numpy as np

import lla


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--users", type=int, default=4)
    ap.add_argument("--min-history", type=int, default=20)
    ap.add_argument("--words", type=int, default=3)
    ap.add_argument("--exclude-history", action="store_true",
                    help="never predict an item of the history (rating data: one rating per film)")
    ap.add_argument("--out")
    args = ap.parse_args()
    corpus = lla.Corpus.open(args.corpus)
    names = corpus.display_names()
    users = [d for d in range(len(corpus)) if corpus.prefix_lengths[d] >= args.min_history
             and corpus.suffix_lengths[d] >= 3][:args.users]
    models = [(lla.base.model_label(p), lla.load_model(p)) for p in args.models]
    md = []
    for d in users:
        history = np.asarray(corpus.prefix(d))
        user = corpus.doc_ids[d] if corpus.doc_ids else str(d)
        md += [f"### User {user} ({len(history)} training events)", "",
               f"Last 5 of the history: {'; '.join(names[i] for i in history[-5:])}.", "",
               f"What came next: **{'; '.join(names[i] for i in corpus.suffix(d)[:3])}**.", "",
               "| model | next topic (p) | its top items (λ = 0.6) |", "|---|---|---|"]
        came_next = {corpus.vocab.types[i] for i in corpus.suffix(d)[:3]}
        for name, model in models:
            p = model.predict_next([history], n_items=5, n_topics=3, n_words=args.words,
                                  exclude_history=args.exclude_history)[0]
            for rank, (k, prob) in enumerate(p.topics):
                label = name if rank == 0 else ""
                md.append(f"| {label} | {k} ({prob:.2f}) | "
                          f"{'; '.join(p.topic_words.get(k, []))} |")
            items = "; ".join(f"**{p.label(i)}**" if i in came_next else p.label(i)
                              for i, _ in p.items)
            md.append(f"| | top 5 next items | {items} |")
            if p.path is not None:
                md.append(f"| | topics of the last 5 history items | "
                          f"{' → '.join(str(k) for k in p.path[-5:])} |")
        md += ["", "(**bold**: a predicted item the user did rate among the next three)", ""]
    text = "\n".join(md)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
