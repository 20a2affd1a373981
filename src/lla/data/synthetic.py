"""Corpora sampled from the LLA generative process (DESIGN §1) with known truth.

The topic dynamics are not an LSTM but a hand-made process whose parameters *are* the truth
and whose memory is longer than one step::

    θ_t ∝ base + ρ·e_{c_{t-1}} + Σ_{ℓ=1..L} κ_ℓ · T[c_{t-ℓ}]   (c = z for topic-LLA data,
    z_t ~ Categorical(θ_t),  w_t ~ Categorical(φ_{z_t})    c = anchor topic of w for word-LLA)

with ``T[a] = e_{successor(a)}`` (topic ``successor(a)`` tends to follow topic ``a``) and a lag
kernel κ that is zero for ℓ < ``min_lag``: by default "topic B follows topic A two to five steps
later".  An optional persistence ρ keeps the previous topic, so that a document dwells in a few
topics and moves along the successor chain (documents then differ in their topic proportions,
which is what LDA, LLA's initialiser, needs to identify topics).  Everything is deterministic
given ``seed``.

Example::

    from lla.data.synthetic import generate
    data = generate(n_docs=200, doc_length=100, n_topics=5, vocab_size=300, seed=0)
    data.corpus, data.z, data.topic_word, data.dynamics.theta(data.z[0][:10])
"""

from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError
from .store import Corpus
from .vocab import Vocabulary


@dataclass
class LagDynamics:
    """The true topic dynamics θ_t = f(c_{t-L..t-1}).

    Attributes
    ----------
    base : float array (K,), the part of θ's unnormalised weight that ignores history
    lag_weights : float array (L,), κ_ℓ for ℓ = 1..L (index ℓ-1)
    successor : int array (K,), successor[a] = the topic that tends to follow topic a
    condition_on : "topic" (c = z, topic-LLA) or "word" (c = anchor topic of w, word-LLA)
    word_anchor : int array (V,), the topic a word signals when condition_on == "word"
    persistence : float, ρ: extra weight on the previous symbol c_{t-1} itself
    """

    base: np.ndarray
    lag_weights: np.ndarray
    successor: np.ndarray
    condition_on: str = "topic"
    word_anchor: np.ndarray = field(default=None)
    persistence: float = 0.0

    @property
    def n_topics(self):
        return len(self.base)

    @property
    def memory(self):
        """L, the number of past steps θ_t depends on."""
        return len(self.lag_weights)

    def weights(self, windows):
        """θ for a batch of histories.

        Parameters
        ----------
        windows : int array (B, L): the last L conditioning symbols c_{t-L}..c_{t-1} (topics,
            most recent last); -1 where the document has not started yet.

        Returns
        -------
        float64 array (B, K), each row a probability vector θ_t.
        """
        windows = np.atleast_2d(np.asarray(windows, dtype=np.int64))
        out = np.broadcast_to(self.base, (len(windows), self.n_topics)).copy()
        rows = np.arange(len(windows))
        if self.persistence:
            last = windows[:, -1]
            ok = last >= 0
            np.add.at(out, (rows[ok], last[ok]), self.persistence)
        for j in range(self.memory):
            lag = self.memory - j  # column j holds c_{t-lag}
            c = windows[:, j]
            ok = c >= 0
            np.add.at(out, (rows[ok], self.successor[c[ok]]), self.lag_weights[lag - 1])
        return out / out.sum(axis=1, keepdims=True)

    def window(self, history):
        """The (L,) window of the last L symbols of ``history`` (padded with -1)."""
        history = np.asarray(history, dtype=np.int64)[-self.memory:]
        return np.concatenate([np.full(self.memory - len(history), -1, np.int64), history])

    def symbols(self, z, w):
        """The conditioning sequence c for a document with topics ``z`` and words ``w``."""
        return np.asarray(z) if self.condition_on == "topic" else self.word_anchor[np.asarray(w)]

    def theta(self, history):
        """θ_t (K,) after a 1-d history of conditioning symbols c_1..c_{t-1}."""
        return self.weights(self.window(history)[None, :])[0]

    def theta_sequence(self, symbols):
        """θ_t for every t = 1..N of a document with conditioning symbols c_1..c_N: (N, K)."""
        symbols = np.asarray(symbols, dtype=np.int64)
        padded = np.concatenate([np.full(self.memory, -1, np.int64), symbols])
        idx = np.arange(len(symbols))[:, None] + np.arange(self.memory)[None, :]
        return self.weights(padded[idx])


@dataclass
class SyntheticCorpus:
    """A sampled corpus with everything that generated it.

    Attributes
    ----------
    corpus : Corpus with V = vocab_size types (id 0 is ``<unk>`` and is never emitted), split
        60/40 like every corpus
    z : list of int32 arrays, the true topic of every token (whole documents)
    topic_word : float64 array (K, V), φ_k, rows sum to 1
    dynamics : LagDynamics, the true θ_t as a function of the history
    """

    corpus: Corpus
    z: list
    topic_word: np.ndarray
    dynamics: LagDynamics

    def exact_heldout_log_prob(self):
        """For ``condition_on == "word"`` data, where θ_t depends only on observed words, the
        true model's exact log p(w_t | w_<t) = log Σ_k θ_tk φ_{k,w_t} for every suffix token."""
        if self.dynamics.condition_on != "word":
            raise ParameterError("exact scoring needs word-conditioned dynamics; topic-conditioned "
                                 "data must be scored with a particle filter")
        out = []
        for d in range(len(self.corpus)):
            w = np.asarray(self.corpus[d])
            theta = self.dynamics.theta_sequence(self.dynamics.word_anchor[w])
            p = np.einsum("tk,kt->t", theta, self.topic_word[:, w])
            out.append(np.log(p[self.corpus.prefix_lengths[d]:]))
        return np.concatenate(out)


def _check(name, value, low):
    if value < low:
        raise ParameterError(f"{name} must be >= {low}, got {value}")


def generate(n_docs=200, doc_length=100, n_topics=5, vocab_size=300, *, beta=0.05,
             min_lag=2, max_lag=5, strength=4.0, background=1.0, persistence=0.0,
             condition_on="topic", split_fraction=0.6, seed=0):
    """Sample a corpus from the LLA generative process with known truth.

    Parameters
    ----------
    n_docs : int
    doc_length : int, or (low, high) for lengths drawn uniformly from [low, high]
    n_topics : K
    vocab_size : V, including id 0 = ``<unk>`` (never emitted)
    beta : Dirichlet concentration of φ_k over the V-1 emitted words (small = sparse topics)
    min_lag, max_lag : topic ``successor(a)`` follows topic ``a`` ``min_lag``..``max_lag`` steps
        later (κ_ℓ = strength / (max_lag - min_lag + 1) on those lags, 0 elsewhere)
    strength : total weight of the history; larger = stronger dynamics
    background : weight of the uniform base term
    persistence : ρ, weight on staying in the previous topic (0: none)
    condition_on : "topic" (topic-LLA data) or "word" (word-LLA data: θ_t depends on the anchor
        topics of the previous words, argmax_k φ_kw)
    seed : int or np.random.SeedSequence; the same seed gives the same corpus
    """
    _check("n_docs", n_docs, 1)
    _check("n_topics", n_topics, 1)
    _check("vocab_size", vocab_size, 2)
    _check("min_lag", min_lag, 1)
    _check("max_lag", max_lag, min_lag)
    if beta <= 0 or strength < 0 or background <= 0 or persistence < 0:
        raise ParameterError("beta and background must be > 0, strength and persistence >= 0")
    if condition_on not in ("topic", "word"):
        raise ParameterError(f"condition_on must be 'topic' or 'word', got {condition_on!r}")
    rng = np.random.default_rng(seed)

    topic_word = np.zeros((n_topics, vocab_size))
    topic_word[:, 1:] = rng.dirichlet(np.full(vocab_size - 1, beta), size=n_topics)
    successor = rng.permutation(n_topics)
    while n_topics > 1 and np.any(successor == np.arange(n_topics)):
        successor = rng.permutation(n_topics)  # a derangement: no topic follows itself
    lag_weights = np.zeros(max_lag)
    lag_weights[min_lag - 1:] = strength / (max_lag - min_lag + 1)
    dynamics = LagDynamics(base=np.full(n_topics, background / n_topics),
                           lag_weights=lag_weights, successor=successor.astype(np.int64),
                           condition_on=condition_on,
                           word_anchor=topic_word.argmax(axis=0).astype(np.int64),
                           persistence=float(persistence))

    if np.isscalar(doc_length):
        _check("doc_length", int(doc_length), 1)
        lengths = np.full(n_docs, int(doc_length))
    else:
        low, high = doc_length
        _check("doc_length", int(low), 1)
        lengths = rng.integers(int(low), int(high) + 1, size=n_docs)

    cdf_words = np.cumsum(topic_word, axis=1)
    docs, zs = [], []
    for n in lengths:
        z = np.empty(n, np.int32)
        w = np.empty(n, np.int32)
        window = np.full(max_lag, -1, np.int64)
        u = rng.random((n, 2))
        for t in range(n):
            theta = dynamics.weights(window[None, :])[0]
            z[t] = min(np.searchsorted(np.cumsum(theta), u[t, 0] * theta.sum(), side="right"),
                       n_topics - 1)
            w[t] = min(np.searchsorted(cdf_words[z[t]], u[t, 1] * cdf_words[z[t], -1],
                                       side="right"), vocab_size - 1)
            window[:-1] = window[1:]
            window[-1] = z[t] if condition_on == "topic" else dynamics.word_anchor[w[t]]
        docs.append(w)
        zs.append(z)
    vocab = Vocabulary(["<unk>"] + [f"w{i}" for i in range(1, vocab_size)])
    corpus = Corpus.from_documents(docs, vocab, split_fraction=split_fraction,
                                   meta={"source": "lla.data.synthetic", "seed": str(seed)})
    return SyntheticCorpus(corpus=corpus, z=zs, topic_word=topic_word, dynamics=dynamics)
