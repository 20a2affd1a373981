import math

import numpy as np
import pytest

from lla import Corpus, InputError, Unigram, load_model
from lla.evaluation import evaluate, perplexity


def test_perplexity_definition():
    assert perplexity(np.log([0.5, 0.25])) == pytest.approx(math.sqrt(8))
    assert perplexity(np.full(10, -math.log(7))) == pytest.approx(7)
    with pytest.raises(InputError, match="no held-out tokens"):
        perplexity([])


def test_unigram_agrees_with_few_line_computation(tmp_path):
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 20, n) for n in rng.integers(2, 50, 30)]
    c = Corpus.from_documents(docs, 20)
    counts = np.zeros(20)
    held = []
    for d in docs:
        k = int(0.6 * len(d))
        np.add.at(counts, d[:k], 1)
        held.extend(d[k:])
    p = (counts + 1) / (counts.sum() + 20)
    expected = math.exp(-np.mean(np.log(p[held])))
    m = Unigram().fit(c)
    assert m.perplexity(c) == pytest.approx(expected)
    result = evaluate(m, c)
    assert result["heldout_tokens"] == len(held) and result["perplexity"] == pytest.approx(expected)
    assert result["parameters"] == {"dense": 20, "nonzero": 0, "total": 20}
    m.save(tmp_path / "m")
    assert load_model(tmp_path / "m").perplexity(c) == pytest.approx(expected)
