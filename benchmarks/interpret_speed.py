"""Speed of the interpretation library on a real corpus (numbers for docs/interpretation.md).

Trains a quick LDA (tomotopy, the `bench` extra; only to get realistic top words: frequent
function words make the window counting work hardest) and times, in one process:

* NPMI of K topics' top-10 words over the training prefixes and over whole documents
  (lla's numba kernel; first call includes compilation), against gensim's ``c_npmi`` and
  lla's pure-Python twin on a subset of documents;
* λ-relevance top words, the hierarchy + MDS map, the three figures, and rendering a report.

    python benchmarks/interpret_speed.py --corpus wiki --topics 100

``--corpus DIR`` is a corpus written by
``lla prepare --preset wiki ../shared/data/enwiki-2015-wikiextractor/enwiki-AA-00-19.txt.xz``.
"""

import argparse
import sys
import time

import numpy as np

from lla.data.store import Corpus
from lla.interpret import (dendrogram_figure, marginal_word_probability, npmi_coherence,
                           top_words, topic_diversity, topic_hierarchy, topic_map,
                           topic_map_figure, transition_heatmap, transition_matrix)
from lla.interpret._plots import figure_png


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def timed(fn, repeats=3):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def quick_lda(corpus, K, iterations, seed):
    import tomotopy as tp

    model = tp.LDAModel(k=K, alpha=0.1, eta=0.01, seed=seed)
    for d in range(len(corpus)):
        words = [str(w) for w in np.asarray(corpus.prefix(d))]
        if words:
            model.add_doc(words)
    model.train(iterations, workers=1)
    V = corpus.n_types
    phi = np.zeros((K, V))
    vocab_ids = np.array([int(w) for w in model.used_vocabs])
    for k in range(K):
        phi[k, vocab_ids] = model.get_topic_word_dist(k)
    z = np.concatenate([np.asarray(doc.topics, dtype=np.int64) for doc in model.docs])
    lengths = np.array([len(doc.words) for doc in model.docs], dtype=np.int64)
    return phi, z, lengths


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--subset-docs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    corpus = Corpus.open(args.corpus)
    names = corpus.vocab.types
    log(f"{corpus}; prefix tokens {corpus.n_prefix_tokens:,}")
    t0 = time.perf_counter()
    phi, z, lengths = quick_lda(corpus, args.topics, args.iterations, args.seed)
    log(f"tomotopy LDA K={args.topics}, {args.iterations} iterations: "
        f"{time.perf_counter() - t0:.1f} s")

    top10 = top_words(phi, 10, lam=1.0, names=names)
    p_w = marginal_word_probability(phi, np.bincount(z, minlength=args.topics))
    t_rel, rel = timed(lambda: top_words(phi, 10, p_w=p_w, names=names))
    print(f"relevance top-10 (K={args.topics}, V={phi.shape[1]}): {t_rel:.3f} s")
    for k in range(5):
        print(f"  topic {k}: probability: {' '.join(top10.labels[k])}")
        print(f"  {'':9}relevance:   {' '.join(rel.labels[k])}")
    print(f"topic diversity (top 25, probability): "
          f"{topic_diversity(top_words(phi, 25, lam=1).ids):.3f}; "
          f"(λ = 0.6): {topic_diversity(top_words(phi, 25, p_w=p_w).ids):.3f}")

    tokens, offsets = corpus.tokens, np.asarray(corpus.offsets)
    prefix = np.asarray(corpus.prefix_lengths)
    t0 = time.perf_counter()
    npmi_coherence(top10.ids, tokens, offsets, prefix)
    first = time.perf_counter() - t0
    t_pre, coh = timed(lambda: npmi_coherence(top10.ids, tokens, offsets, prefix))
    t_all, coh_all = timed(lambda: npmi_coherence(top10.ids, tokens, offsets))
    print(f"NPMI, prefixes ({corpus.n_prefix_tokens:,} tokens, {coh.n_windows:,} windows): "
          f"{t_pre:.3f} s (first call incl. compilation {first:.2f} s); mean {coh.mean:.4f}")
    print(f"NPMI, whole documents ({corpus.n_tokens:,} tokens): {t_all:.3f} s; "
          f"mean {coh_all.mean:.4f}")

    sub = slice(0, args.subset_docs)
    docs = [np.asarray(corpus.prefix(d)) for d in range(len(corpus))][sub]
    sub_lengths = np.array([len(d) for d in docs])
    sub_offsets = np.concatenate([[0], np.cumsum(sub_lengths)])
    sub_tokens = np.concatenate(docs).astype(np.int32)
    t_lla, ours = timed(lambda: npmi_coherence(top10.ids, sub_tokens, sub_offsets))
    from lla._kernels.windows import window_cooccurrence
    from lla._kernels.windows_ref import window_cooccurrence_ref
    union = np.unique(top10.ids)
    slot = np.full(corpus.n_types, -1, np.int32)
    slot[union] = np.arange(union.size, dtype=np.int32)
    starts = sub_offsets[:-1].astype(np.int64)
    t_ref, ref = timed(lambda: window_cooccurrence_ref(sub_tokens, starts, sub_lengths, slot, 10,
                                                       union.size), repeats=1)
    fast = window_cooccurrence(sub_tokens, starts, sub_lengths.astype(np.int64), slot, 10,
                               union.size)
    assert fast[0] == ref[0] and np.array_equal(fast[1], ref[1]) and np.array_equal(fast[2],
                                                                                     ref[2])
    line = (f"subset of {args.subset_docs} documents ({sub_tokens.size:,} tokens): lla "
            f"{t_lla:.4f} s, pure-Python twin {t_ref:.2f} s (counts identical)")
    try:
        from gensim.corpora import Dictionary
        from gensim.models import CoherenceModel

        texts = [[names[i] for i in d] for d in docs]
        present = set(np.concatenate(docs).tolist())
        keep = [k for k in range(args.topics) if set(top10.ids[k].tolist()) <= present]
        dictionary = Dictionary(texts)
        t_gen, gen = timed(lambda: CoherenceModel(
            topics=[top10.labels[k] for k in keep], texts=texts, dictionary=dictionary,
            coherence="c_npmi", window_size=10, processes=1).get_coherence_per_topic(),
            repeats=1)
        diff = np.abs(np.array(gen) - ours.npmi[keep])
        line += (f", gensim {t_gen:.2f} s ({t_gen / t_lla:.0f}× lla); |lla − gensim| over "
                 f"{len(keep)} topics: median {np.median(diff):.2e}, max {diff.max():.2e} "
                 f"(gensim undercounts windows where a top word repeats)")
    except ImportError:
        line += ", gensim not installed"
    print(line)

    t_tree, tree = timed(lambda: topic_hierarchy(phi))
    t_map, (coords, explained) = timed(lambda: topic_map(tree.distances))
    print(f"hierarchy of φ (cosine, average, optimal leaf order): {t_tree:.3f} s; "
          f"MDS map {t_map:.3f} s")
    P, _ = transition_matrix(z, lengths, args.topics)
    t0 = time.perf_counter()
    figures = [dendrogram_figure(tree, rel.short_labels(4)),
               topic_map_figure(coords, rel.short_labels(2), explained=explained),
               transition_heatmap(P, rel.short_labels(2), order=tree.order)]
    pngs = [figure_png(f) for f in figures]
    print(f"three figures drawn + PNG: {time.perf_counter() - t0:.2f} s "
          f"({sum(map(len, pngs)) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
