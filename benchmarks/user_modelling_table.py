"""One table per event corpus under the leave-one-out protocol (issue 15, docs/user_modelling.md):
lla's models from an ``lla compare --masked`` run next to RecBole's GRU4Rec and SASRec from
``benchmarks/recbole/run.sh`` on the same corpus.

    python benchmarks/user_modelling_table.py --compare CMP_DIR [--recbole RB_DIR] [--title T]

The columns are the test targets' HR@10, NDCG@10 and MRR@10 of the full ranking over all items,
unmasked (RecBole's convention for its sequential models) and, for lla's models, masked (the
history's items excluded); the validation targets' HR@10; parameters (dense + non-zeros for lla,
RecBole's trainable parameters); training seconds and the epoch budget of the peers.  Rows are
sorted by unmasked test HR@10.
"""

import argparse
import json
from pathlib import Path


def lla_rows(compare_dir):
    doc = json.loads((Path(compare_dir) / "results.json").read_text())
    rows = []
    for r in doc["results"]:
        p = r["parameters"]
        rows.append({
            "model": r["run"], "hr": r["hr@10"], "ndcg": r["ndcg@10"], "mrr": r["mrr@10"],
            "masked_hr": r.get("masked_hr@10"), "masked_ndcg": r.get("masked_ndcg@10"),
            "val_hr": r.get("validation_hr@10"), "parameters": p["dense"] + p["nonzero"],
            "train_s": r["train_seconds"], "budget": "defaults"})
    return doc, rows


def recbole_rows(recbole_dir):
    doc = json.loads((Path(recbole_dir) / "results.json").read_text())
    rows = []
    for name, r in doc["models"].items():
        t = r["test"]
        rows.append({
            "model": f"RecBole {name}", "hr": t["hr@10"], "ndcg": t["ndcg@10"],
            "mrr": t["mrr@10"], "masked_hr": None, "masked_ndcg": None,
            "val_hr": r["validation"]["hr@10"], "parameters": r["parameters"],
            "train_s": sum(r["train_epoch_seconds"]),
            "budget": f"{r['epochs_run']} of {r['epoch_budget']} epochs (best {r['best_epoch']})"})
    return doc, rows


def _f(x, digits=4):
    return "–" if x is None else f"{x:.{digits}f}"


def table(rows):
    md = ["| model | HR@10 | NDCG@10 | MRR@10 | masked HR@10 | masked NDCG@10 | validation HR@10 "
          "| parameters | train s | budget |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in sorted(rows, key=lambda r: -r["hr"]):
        md.append(f"| {r['model']} | {_f(r['hr'])} | {_f(r['ndcg'])} | {_f(r['mrr'])} | "
                  f"{_f(r['masked_hr'])} | {_f(r['masked_ndcg'])} | {_f(r['val_hr'])} | "
                  f"{r['parameters']:,} | {r['train_s']:.0f} | {r['budget']} |")
    return "\n".join(md)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compare", required=True, help="an lla compare --masked output directory")
    ap.add_argument("--recbole", help="a benchmarks/recbole/run.sh output directory")
    ap.add_argument("--title")
    args = ap.parse_args()
    doc, rows = lla_rows(args.compare)
    if args.recbole:
        rows += recbole_rows(args.recbole)[1]
    stats = doc.get("corpus_statistics", {})
    title = args.title or Path(doc["corpus"]).name
    print(f"### {title}\n")
    print(f"lla: `{doc['command']}`" + (f"; RecBole: `{args.recbole}`" if args.recbole else ""))
    if stats:
        print(f"({stats.get('n_docs', '?'):,} users, V = {stats.get('vocab_size', '?'):,})")
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
