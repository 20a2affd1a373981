"""Neural baselines (DESIGN §4): word-LSTM, char-LSTM and the bag-of-words autoencoder.

movielens: every baseline (and the unigram floor) with held-out perplexity, HR@10, MRR, dense
parameters and training time.  wiki: training speed of the sampled vs the full softmax (the
same LSTM, a fixed subset of articles), then WordLSTM E=H=128 with the sampled softmax for
``--wiki-epochs`` epochs on the whole prefixes, scored with the exact full softmax.

    lla prepare --preset movielens ../shared/data/ml-100k/u.data --out DIR/movielens
    lla prepare --preset wiki ../shared/data/enwiki-2015-wikiextractor/enwiki-AA-00-19.txt.xz \
        --out DIR/wiki
    python benchmarks/lstm_lm.py --movielens DIR/movielens --wiki DIR/wiki [--threads 1]
        [--wiki-epochs 3] [--speed-docs 64] [--json out.json]

``--wiki-epochs 0`` measures only the softmax speeds.
"""

import argparse
import json
import platform
import sys
import time

import numpy as np
import torch

import lla
from lla.evaluation import evaluate
from lla.nn.language_model import (LSTMLanguageModel, UnigramProposal, WordEmbedding,
                                   seed_streams, train_epoch)


def row(corpus_name, model, result, train_s, extra=""):
    p = result["parameters"]["dense"]
    hr = f"{result['hr@10']:.3f}" if "hr@10" in result else "–"
    mrr = f"{result['mrr']:.3f}" if "mrr" in result else "–"
    epochs = getattr(model, "n_epochs_trained_", "–")
    line = (f"| {corpus_name} | {model.model_name} | {result['perplexity']:.1f} | {hr} | {mrr} | "
            f"{p:,} | {epochs} | {train_s:.0f} | {result['scoring_seconds']:.0f} | {extra} |")
    print(line, flush=True)
    return line


def run_movielens(path, seed):
    corpus = lla.Corpus.open(path)
    lines, results = [], {}
    models = [
        lla.Unigram(),
        lla.WordLSTM(128, 128, random_state=seed),
        lla.CharLSTM(128, 128, random_state=seed),
        lla.Autoencoder(random_state=seed),
    ]
    for model in models:
        start = time.perf_counter()
        model.fit(corpus)
        train_s = time.perf_counter() - start
        res = evaluate(model, corpus, ranking=True)
        res["train_seconds"] = train_s
        res["history"] = getattr(model, "history_", None)
        results[model.model_name] = res
        lines.append(row("movielens", model, res, train_s))
    return lines, results


def _adaptive_epoch(corpus, V, seed=0):
    """One training epoch with ``torch.nn.AdaptiveLogSoftmaxWithLoss`` (cutoffs 2,000 / 10,000,
    div_value 4) in place of the output layer: same LSTM, batches, BPTT and optimiser."""
    from lla.data.batching import length_buckets, pad_batch
    from lla.nn.language_model import _shifted
    _, generator, rng = seed_streams(np.random.SeedSequence(seed), "cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = LSTMLanguageModel(V, WordEmbedding(V, 128), 128, 128, dropout=0.2)
        adaptive = torch.nn.AdaptiveLogSoftmaxWithLoss(128, V, [2000, 10000], div_value=4.0)
    params = [p for n, p in module.named_parameters() if not n.startswith("output")]
    opt = torch.optim.Adam(params + list(adaptive.parameters()), lr=2e-3)
    n, start = 0, time.perf_counter()
    for docs in length_buckets(corpus, 32, part="prefix", rng=rng):
        padded, lengths = pad_batch(corpus, docs, part="prefix")
        inputs, targets = torch.as_tensor(_shifted(padded)), torch.as_tensor(padded)
        valid = torch.as_tensor(np.arange(padded.shape[1])[None, :] < lengths[:, None])
        state = None
        for t0 in range(0, padded.shape[1], 35):
            sl = slice(t0, t0 + 35)
            hidden, state = module(inputs[:, sl], state, generator=generator)
            state = tuple(x.detach() for x in state)
            mask = valid[:, sl]
            loss = adaptive(hidden[mask], targets[:, sl][mask]).loss
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params + list(adaptive.parameters()), 1.0)
            opt.step()
            n += int(mask.sum())
    return n / (time.perf_counter() - start)


def softmax_speed(corpus, n_docs, threads_note):
    """Seconds per wiki epoch (extrapolated from the ``n_docs`` articles whose prefix lengths are
    closest to the median, i.e. full length-bucketed batches) of one training epoch with the
    sampled (S = 1024), the full and the adaptive softmax; same LSTM, same batches."""
    lengths = corpus.prefix_lengths
    docs = np.sort(np.argsort(np.abs(lengths - np.median(lengths)), kind="stable")[:n_docs])
    sub = corpus.subset(docs)
    counts = corpus.prefix_counts()
    V = corpus.n_types
    out = {}
    for name, S in (("sampled S=1024", 1024), ("full", 0), ("adaptive", None)):
        if S is None:
            tokens_per_s = _adaptive_epoch(sub, V)
        else:
            _, generator, rng = seed_streams(np.random.SeedSequence(0), "cpu")
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                module = LSTMLanguageModel(V, WordEmbedding(V, 128), 128, 128, dropout=0.2)
            opt = torch.optim.Adam(module.parameters(), lr=2e-3)
            proposal = UnigramProposal(counts, S) if S else None
            tokens_per_s = train_epoch(module, sub, opt, batch_size=32, bptt=35, clip=1.0,
                                       rng=rng, generator=generator,
                                       proposal=proposal)["tokens_per_s"]
        out[name] = {"tokens_per_s": tokens_per_s,
                     "seconds_per_epoch": corpus.n_prefix_tokens / tokens_per_s}
        print(f"  wiki softmax speed, {name}: {tokens_per_s:,.0f} tokens/s -> "
              f"{out[name]['seconds_per_epoch']:.0f} s/epoch ({threads_note}; "
              f"{sub.n_prefix_tokens:,} tokens timed)", flush=True)
    return out


def run_wiki(path, seed, epochs, speed_docs):
    corpus = lla.Corpus.open(path)
    results = {"speed": softmax_speed(corpus, speed_docs, f"{torch.get_num_threads()} threads")}
    if epochs == 0:
        return [], results
    model = lla.WordLSTM(128, 128, n_epochs=epochs, sampled_softmax=1024, validation=False,
                         random_state=seed)
    start = time.perf_counter()
    model.fit(corpus)
    train_s = time.perf_counter() - start
    res = evaluate(model, corpus)
    res["train_seconds"] = train_s
    res["history"] = model.history_
    results["word-lstm"] = res
    line = row("wiki", model, res, train_s,
               f"sampled softmax S=1024, {epochs} epochs, "
               f"{np.mean([h['seconds'] for h in model.history_]):.0f} s/epoch")
    return [line], results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--movielens")
    ap.add_argument("--wiki")
    ap.add_argument("--wiki-epochs", type=int, default=3)
    ap.add_argument("--speed-docs", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {time.strftime('%Y-%m-%d')}", flush=True)
    print("| corpus | model | held-out PPL | HR@10 | MRR | dense params | epochs | train s | "
          "score s | notes |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|", flush=True)
    lines, results = [], {}
    if args.movielens:
        l, r = run_movielens(args.movielens, args.seed)
        lines += l
        results["movielens"] = r
    if args.wiki:
        l, r = run_wiki(args.wiki, args.seed, args.wiki_epochs, args.speed_docs)
        lines += l
        results["wiki"] = r
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
