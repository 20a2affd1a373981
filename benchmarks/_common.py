"""Helpers shared by the benchmark scripts (run as ``python benchmarks/NAME.py``)."""

import time

import numpy as np
import torch


def best_time(fn, repeats=2):
    """Smallest wall time of ``fn(rep)`` over ``repeats`` calls (seconds)."""
    best = float("inf")
    for rep in range(repeats):
        t0 = time.perf_counter()
        fn(rep)
        best = min(best, time.perf_counter() - t0)
    return best


def lstm_forward_seconds(K, E, H, lengths, device, batch_docs=64):
    """Wall time of a teacher-forced ``torch.nn.LSTM`` forward + K-way log-softmax over documents
    of the given lengths (no grad, ``batch_docs`` longest-first documents per padded batch) —
    the yardstick of the SE-step: same sizes, same tokens, no sampling."""
    emb = torch.nn.Embedding(K + 1, E).to(device)
    lstm = torch.nn.LSTM(E, H, batch_first=True).to(device)
    proj = torch.nn.Linear(H, K).to(device)
    order = np.argsort(-np.asarray(lengths))
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(order), batch_docs):
            docs = order[i:i + batch_docs]
            L = int(lengths[docs].max())
            x = torch.zeros(len(docs), L, dtype=torch.int64, device=device)
            out, _ = lstm(emb(x))
            torch.log_softmax(proj(out), dim=-1)
    return time.perf_counter() - start


def lstm_forward_tokens_per_second(K, E, H, lengths, device, repeats=2):
    """Tokens/s of :func:`lstm_forward_seconds`, best of ``repeats``."""
    lengths = np.asarray(lengths)
    return int(lengths.sum()) / best_time(
        lambda _: lstm_forward_seconds(K, E, H, lengths, device), repeats)
