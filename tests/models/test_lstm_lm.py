import numpy as np
import pytest
import torch

import lla
from lla.data.synthetic import generate
from lla.errors import InputError, NotFittedError, ParameterError
from lla.evaluation import rank_of_true
from lla.nn.language_model import START, heldout_scores

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see conftest


@pytest.fixture(scope="module")
def data():
    return generate(n_docs=80, doc_length=60, n_topics=6, vocab_size=80, condition_on="word",
                    seed=0)


@pytest.fixture(scope="module")
def tiny():
    return generate(n_docs=12, doc_length=(6, 15), n_topics=3, vocab_size=20,
                    condition_on="word", seed=3).corpus


def word(**kw):
    args = dict(n_epochs=10, batch_size=16, learning_rate=1e-2, dropout=0.0, random_state=0)
    args.update(kw)
    return lla.WordLSTM(16, 16, **args)


def char(**kw):
    args = dict(char_embedding=8, char_hidden=16, n_epochs=20, patience=4, batch_size=16,
                learning_rate=1e-2, dropout=0.0, random_state=0)
    args.update(kw)
    return lla.CharLSTM(16, 16, **args)


@pytest.fixture(scope="module")
def fitted_word(data):
    return word().fit(data.corpus)


@pytest.fixture(scope="module")
def fitted_char(data):
    return char().fit(data.corpus)


@pytest.mark.parametrize("which", ["fitted_word", "fitted_char"])
def test_beats_unigram_on_synthetic_data(which, data, request):
    model = request.getfixturevalue(which)
    unigram = lla.Unigram().fit(data.corpus).perplexity(data.corpus)
    ppl = model.perplexity(data.corpus)
    truth = lla.evaluation.perplexity(data.exact_heldout_log_prob())
    assert truth < ppl < 0.97 * unigram
    assert model.n_epochs_trained_ >= 1
    stages = {h["stage"] for h in model.history_}
    assert stages == {"validation", "refit"}


def test_sampled_softmax_training_lowers_full_softmax_validation_perplexity(data):
    V = data.corpus.n_types
    model = word(sampled_softmax=32, n_epochs=12, patience=12, refit=False)
    assert model._uses_sampled_softmax(V)          # 32 negatives out of V = 80
    model.fit(data.corpus)
    valid = [h["valid_perplexity"] for h in model.history_]
    inner = data.corpus.prefix_corpus()
    unigram_valid = lla.Unigram().fit(inner).perplexity(inner)
    assert min(valid) < 0.95 * valid[0] and min(valid) < 0.95 * unigram_valid
    # the kept weights are the best epoch's, scored exactly
    kept = lla.evaluation.perplexity(heldout_scores(model.module_, inner)[0])
    assert kept == pytest.approx(min(valid), rel=1e-9)


def _brute_force(model, corpus):
    module = model.module_
    lp, scores, true = [], [], []
    with torch.no_grad():
        for d in range(len(corpus)):
            doc = np.asarray(corpus[d], np.int64)
            for t in range(int(corpus.prefix_lengths[d]), len(doc)):
                hidden, _ = module(torch.as_tensor(np.r_[START, doc[:t]])[None, :])
                logp = torch.log_softmax(module.output(hidden[0, -1]), dim=-1).numpy()
                lp.append(logp[doc[t]])
                scores.append(logp)
                true.append(doc[t])
    return np.array(lp), np.array(scores), np.array(true)


@pytest.mark.parametrize("make", [word, char])
def test_heldout_log_prob_and_ranks_equal_brute_force(make, tiny):
    model = make(n_epochs=2, batch_size=4).fit(tiny)
    lp, scores, true = _brute_force(model, tiny)
    np.testing.assert_allclose(model.heldout_log_prob(tiny), lp, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(model.heldout_ranks(tiny), rank_of_true(scores, true))
    res = lla.evaluation.evaluate(model, tiny, ranking=True)
    assert res["heldout_tokens"] == tiny.n_suffix_tokens and 0 <= res["hr@10"] <= 1


@pytest.mark.parametrize("make", [word, char])
def test_same_seed_same_parameters_and_global_rng_untouched(make, tiny):
    state = torch.get_rng_state()
    a = make(n_epochs=2, batch_size=4, dropout=0.3).fit(tiny)
    assert torch.equal(torch.get_rng_state(), state)
    b = make(n_epochs=2, batch_size=4, dropout=0.3).fit(tiny)
    c = make(n_epochs=2, batch_size=4, dropout=0.3, random_state=1).fit(tiny)
    sa, sb, sc = (m.module_.state_dict() for m in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_char_lstm_has_no_input_table(tiny):
    V, E, H = tiny.n_types, 16, 16
    w = word(n_epochs=1, batch_size=4).fit(tiny)
    c = char(n_epochs=1, batch_size=4).fit(tiny)
    lstm = 4 * H * (E + H) + 8 * H
    softmax = V * H + V
    assert w.n_parameters()["dense"] == V * E + E + lstm + softmax
    char_encoder = sum(p.numel() for p in c.module_.encoder.parameters())
    assert c.n_parameters()["dense"] == char_encoder + E + lstm + softmax
    assert w.n_parameters()["dense"] - c.n_parameters()["dense"] == V * E - char_encoder
    assert not any(p.shape[0] == V and p.ndim == 2 and p.shape[1] == E
                   for n, p in c.module_.named_parameters() if n.startswith("encoder"))
    assert c.n_parameters()["nonzero"] == 0


@pytest.mark.parametrize("make", [word, char])
def test_save_load_same_scores(make, tiny, tmp_path):
    model = make(n_epochs=2, batch_size=4).fit(tiny)
    model.save(tmp_path / "m")
    loaded = lla.load_model(tmp_path / "m")
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    assert loaded.perplexity(tiny) == model.perplexity(tiny)
    np.testing.assert_array_equal(loaded.heldout_ranks(tiny), model.heldout_ranks(tiny))
    assert loaded.n_parameters() == model.n_parameters()
    assert loaded.history_ == model.history_


def test_without_validation_trains_n_epochs_on_whole_prefixes(tiny):
    model = word(n_epochs=3, batch_size=4, validation=False).fit(tiny)
    assert [h["epoch"] for h in model.history_] == [1, 2, 3]
    assert all(h["tokens"] == tiny.n_prefix_tokens for h in model.history_)
    assert "valid_perplexity" not in model.history_[0]


def test_errors(tiny):
    with pytest.raises(NotFittedError):
        word().heldout_log_prob(tiny)
    for bad in (dict(batch_size=0), dict(dropout=1.0), dict(learning_rate=0), dict(sampled_softmax=-1),
                dict(random_state=-1)):
        with pytest.raises(ParameterError):
            word(**bad).fit(tiny)
    model = word(n_epochs=1, batch_size=4).fit(tiny)
    other = lla.Corpus.from_documents([np.arange(30) % 25], 25)
    with pytest.raises(InputError):
        model.heldout_log_prob(other)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("make", [word, char])
def test_cuda_matches_cpu_scoring(make, tiny):
    model = make(n_epochs=2, batch_size=4, device="cuda").fit(tiny)
    assert model.module_.device.type == "cuda"
    lp = model.heldout_log_prob(tiny)
    cpu = make(n_epochs=2, batch_size=4)
    cpu._prepare_vocabulary(tiny.vocab)
    cpu.module_ = cpu._build(tiny.n_types, np.zeros(tiny.n_types), 0)
    cpu.module_.load_state_dict({k: v.cpu() for k, v in model.module_.state_dict().items()})
    cpu.module_.eval()
    np.testing.assert_allclose(cpu.heldout_log_prob(tiny), lp, rtol=1e-4, atol=1e-4)
