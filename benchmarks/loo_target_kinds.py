"""HR@10 of the leave-one-out test targets split by kind: items never seen in training
(``<unk>``) against known items, for every lla model of an ``lla compare`` run and every RecBole
peer of ``benchmarks/recbole/run.sh`` on the same corpus (issue 15; docs/user_modelling.md).

    python benchmarks/loo_target_kinds.py CORPUS COMPARE_DIR [RECBOLE_DIR]

On small logs many targets are unseen items (DIGINETICA sample: 696 of 1,527), and an ``<unk>``
target that repeats an ``<unk>`` just before it is easy for a model that scores items against
its input embeddings (RecBole's SASRec and GRU4Rec tie them), while lla's models give ``<unk>``
no mass (it never occurs in training).  Splitting the hits shows how much of a score is that.
"""

import json
import sys
from pathlib import Path

import numpy as np

import lla


def main(corpus_dir, compare_dir, recbole_dir=None):
    corpus = lla.Corpus.open(corpus_dir)
    true, ptr = corpus.suffix_arrays()
    doc_of = np.repeat(np.arange(len(corpus)), np.diff(ptr))
    position = np.arange(len(true)) - ptr[doc_of] + corpus.prefix_lengths[doc_of]
    targets = corpus.targets("test")
    test = set(zip(targets.docs.tolist(), targets.positions.tolist()))
    is_test = np.array([(int(d), int(p)) in test for d, p in zip(doc_of, position)])
    unk = (true == corpus.vocab.unk_id)[is_test]
    print(f"{is_test.sum()} test targets, {unk.sum()} of them <unk>")
    print("| model | HR@10 | HR@10 of <unk> targets | HR@10 of known items |\n|---|---:|---:|---:|")

    def row(name, ranks):
        print(f"| {name} | {np.mean(ranks <= 10):.4f} | {np.mean(ranks[unk] <= 10):.4f} | "
              f"{np.mean(ranks[~unk] <= 10):.4f} |", flush=True)

    for run in sorted(Path(compare_dir, "runs").iterdir()):
        row(run.name, lla.load_model(run / "model").heldout_ranks(corpus)[is_test])
    if recbole_dir:
        test_docs = doc_of[is_test]
        for path in sorted(Path(recbole_dir, "models").glob("*.json")):
            peer = json.loads(path.read_text())
            by_user = {int(d): rank for d, rank in peer["test_ranks"]}
            row(f"RecBole {peer['model']}", np.array([by_user[int(d)] for d in test_docs]))


if __name__ == "__main__":
    main(*sys.argv[1:])
