import numpy as np
import pytest

from lla import ParameterError, load_model
from lla.data.synthetic import generate
from lla.models.independent import IndependentLLA
from lla.models.topic_lla import TopicLLA

SMALL = dict(embedding_size=4, hidden_size=8, init_lda_iter=10, init_lstm_epochs=2,
             batch_size=8, random_state=3, n_threads=1)


@pytest.fixture(scope="module")
def corpus():
    return generate(n_docs=20, doc_length=(10, 30), n_topics=3, vocab_size=40, seed=1).corpus


def test_independent_is_iteration_zero_of_topic_lla(corpus, tmp_path):
    ind = IndependentLLA(3, **SMALL).fit(corpus)
    joint0 = TopicLLA(3, n_iter=0, n_average=0, **SMALL).fit(corpus)
    assert ind.model_name == "independent" and ind.n_iter_done_ == 0
    assert np.array_equal(ind.z_, joint0.z_)
    ppl = ind.perplexity(corpus, n_particles=4)
    assert ppl == pytest.approx(joint0.perplexity(corpus, n_particles=4))
    assert "n_iter" not in ind.get_params() and "n_average" not in ind.get_params()
    assert ind.n_wk_mean_ is None   # φ is LDA's: no SE-steps average it
    ind.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, IndependentLLA)
    assert loaded.perplexity(corpus, n_particles=4) == pytest.approx(ppl)


def test_independent_refuses_sem_iterations():
    with pytest.raises(ParameterError, match="no SE-steps: leave n_iter"):
        IndependentLLA(3, n_iter=5)
    with pytest.raises(ParameterError, match="no SE-steps: leave n_average"):
        IndependentLLA(3, n_average=3)
