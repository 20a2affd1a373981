import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lla import Corpus
from lla.evaluation import rank_of_true
from lla.nn.char_encoder import CharWordEncoder, build_char_table
from lla.nn.language_model import (START, LSTMLanguageModel, UnigramProposal, WordEmbedding,
                                   dropout, early_stopping, full_softmax_loss, heldout_scores,
                                   sampled_softmax_loss, seed_streams, train_epoch)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see conftest


V, E, H = 12, 5, 7


def tiny_corpus(seed=0, n_docs=7):
    rng = np.random.default_rng(seed)
    docs = [rng.integers(0, V, size=int(n)) for n in rng.integers(2, 14, size=n_docs)]
    docs.append(np.array([3], np.int32))  # one token: empty prefix, one suffix token
    return Corpus.from_documents(docs, V)


def word_lm(seed=0):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return LSTMLanguageModel(V, WordEmbedding(V, E), E, H).eval()


def char_lm(seed=0):
    types = ["<unk>"] + [f"w{i}" for i in range(1, V)]
    chars, table, lengths = build_char_table(types)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        enc = CharWordEncoder(len(chars), 4, 3, E, char_table=(table, lengths))
        return LSTMLanguageModel(V, enc, E, H).eval()


def brute_force(model, corpus):
    """Per token: run the LM on [START, w_1..w_{t-1}] and take log_softmax of the last logits."""
    lp, scores, true = [], [], []
    with torch.no_grad():
        for d in range(len(corpus)):
            doc = np.asarray(corpus[d], dtype=np.int64)
            for t in range(int(corpus.prefix_lengths[d]), len(doc)):
                inputs = torch.as_tensor(np.concatenate([[START], doc[:t]]))[None, :]
                hidden, _ = model(inputs)
                logp = F.log_softmax(model.output(hidden[0, -1]), dim=-1)
                lp.append(float(logp[doc[t]]))
                scores.append(logp.numpy())
                true.append(doc[t])
    return np.array(lp), np.array(scores), np.array(true)


@pytest.mark.parametrize("make", [word_lm, char_lm])
def test_scoring_equals_brute_force_loop(make):
    model, corpus = make(), tiny_corpus()
    lp, scores, true = brute_force(model, corpus)
    assert len(lp) == corpus.n_suffix_tokens
    got, ranks = heldout_scores(model, corpus, batch_size=3, chunk=4, ranks=True)
    np.testing.assert_allclose(got, lp, rtol=1e-5, atol=1e-5)
    # ranks: the same as rank_of_true on the brute-force scores (ties aside, floats agree)
    np.testing.assert_array_equal(ranks, rank_of_true(scores, true))
    assert ranks.min() >= 1 and ranks.max() <= V


def test_scoring_chunking_and_batching_do_not_matter():
    model, corpus = word_lm(1), tiny_corpus(1, n_docs=10)
    a, _ = heldout_scores(model, corpus, batch_size=1, chunk=1)
    b, _ = heldout_scores(model, corpus, batch_size=32, chunk=1000)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_scoring_restores_training_mode():
    model = word_lm()
    model.train()
    heldout_scores(model, tiny_corpus())
    assert model.training


def test_sampled_softmax_loss_formula_and_accidental_hits():
    torch.manual_seed(0)
    out = torch.nn.Linear(H, V)
    h = torch.randn(4, H)
    y = torch.tensor([1, 2, 3, 2])
    neg = torch.tensor([2, 5, 5, 7])
    log_expected = torch.log(torch.rand(V) + 0.1)
    loss = sampled_softmax_loss(h, y, out, neg, log_expected)
    logits = out(h) - log_expected                                  # (4, V) corrected
    manual = []
    for i in range(4):
        negs = [int(n) for n in neg if int(n) != int(y[i])]         # hits removed
        row = torch.cat([logits[i, y[i]][None], logits[i, negs]])
        manual.append(-F.log_softmax(row, dim=0)[0])
    torch.testing.assert_close(loss, torch.stack(manual).mean())


def test_sampled_softmax_with_whole_vocabulary_and_uniform_q_is_full_softmax():
    # S = V negatives, each type once, Q uniform: the corrections cancel and (minus the
    # removed target duplicate) the sampled loss is exactly the full softmax loss
    torch.manual_seed(0)
    out = torch.nn.Linear(H, V)
    h, y = torch.randn(6, H), torch.randint(0, V, (6,))
    loss = sampled_softmax_loss(h, y, out, torch.arange(V), torch.zeros(V))
    torch.testing.assert_close(loss, full_softmax_loss(h, y, out))


def test_unigram_proposal():
    counts = np.array([0, 1, 16, 81])
    p = UnigramProposal(counts, 1000)
    torch.testing.assert_close(p.q, torch.tensor([0, 1, 8, 27]) / 36.0)
    g = torch.Generator().manual_seed(0)
    s = p.sample(g)
    assert s.shape == (1000,) and not (s == 0).any()
    torch.testing.assert_close(p.log_expected[1:], torch.log(1000 * p.q[1:]))


def test_dropout_uses_its_generator_only():
    x = torch.ones(1000)
    state = torch.get_rng_state()
    a = dropout(x, 0.5, torch.Generator().manual_seed(3), True)
    b = dropout(x, 0.5, torch.Generator().manual_seed(3), True)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, b) and set(a.unique().tolist()) == {0.0, 2.0}
    assert torch.equal(dropout(x, 0.5, None, False), x)


def test_train_epoch_reduces_loss_and_reaches_char_encoder():
    corpus = Corpus.from_documents([np.tile([1, 2, 3, 4, 5], 8)] * 6, V)
    model = char_lm()
    _, g, rng = seed_streams(np.random.SeedSequence(0), "cpu")
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    before = {n: p.detach().clone() for n, p in model.encoder.named_parameters()}
    first = train_epoch(model, corpus, opt, batch_size=4, bptt=7, clip=1.0, rng=rng,
                        generator=g)
    for _ in range(20):
        last = train_epoch(model, corpus, opt, batch_size=4, bptt=7, clip=1.0, rng=rng,
                           generator=g)
    assert first["tokens"] == corpus.n_prefix_tokens
    assert last["loss"] < 0.5 * first["loss"]
    for n, p in model.encoder.named_parameters():
        assert not torch.equal(p, before[n]), f"char encoder parameter {n} did not move"


def test_early_stopping_keeps_best_weights():
    model = word_lm()
    values = iter([5.0, 3.0, 4.0, 6.0, 1.0])
    snapshots = {}

    def run_epoch(epoch):
        with torch.no_grad():
            model.start.fill_(float(epoch))
        snapshots[epoch] = model.start.clone()
        return {"loss": 0.0}

    history, best = early_stopping(model, 10, run_epoch, lambda: next(values), patience=2)
    assert best == 2 and len(history) == 4                   # stopped after 2 bad epochs
    assert torch.equal(model.start, snapshots[2])
    assert [h["valid_perplexity"] for h in history] == [5.0, 3.0, 4.0, 6.0]
