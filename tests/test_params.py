"""Declared hyper-parameters (lla.params): the declarations match the constructors, values are
checked with one message format, and saved parameters are checked like constructor calls."""

import inspect
import json

import numpy as np
import pytest

import lla
from lla.base import registered_models
from lla.errors import InputError, ParameterError
from lla.params import Param, check


@pytest.mark.parametrize("name", list(registered_models()))
def test_every_constructor_argument_is_declared_and_nothing_else(name):
    cls = registered_models()[name]
    assert set(cls._param_names()) == set(cls._parameters) - (
        {"n_iter"} if name == "independent" else set())
    # every default is accepted by its own declaration
    for param, default in cls._defaults().items():
        check(param, default, cls._parameters[param])


@pytest.mark.parametrize("param, value, message", [
    (Param("int", low=1), 0, "x must be an integer >= 1, got 0"),
    (Param("int", low=1), True, "x must be an integer >= 1, got True"),
    (Param("int", low=1), "abc", "x must be an integer >= 1, got 'abc'"),
    (Param("float", low=0, low_open=True), 0.0, "x must be a number > 0, got 0.0"),
    (Param("float", low=0, high=1, high_open=True), 1.0, "x must be a number in [0, 1), got 1.0"),
    (Param("float", low=0), float("nan"), "x must be a number >= 0, got nan"),
    (Param("str", choices=("a", "b")), "c", "x must be one of 'a', 'b', got 'c'"),
    (Param("seed", none=True), -3, "x must be a non-negative integer or a SeedSequence or None"),
    (Param("bool"), 1, "x must be true or false, got 1"),
    (Param("device"), "gpu7", "x must be a torch device"),
])
def test_one_message_format(param, value, message):
    with pytest.raises(ParameterError) as info:
        check("x", value, param)
    assert str(info.value).startswith(message)
    assert info.value.parameter == "x"


def test_fit_checks_every_declared_parameter():
    corpus = lla.Corpus.from_documents([np.arange(1, 9)] * 4, 10)
    for model in (lla.LDA(0), lla.TopicLLA(3, dropout=1.5), lla.WordLSTM(learning_rate=-1),
                  lla.DDLDA(3, kernel="box"), lla.Unigram(smoothing=-1)):
        with pytest.raises(ParameterError):
            model.fit(corpus)


def test_saved_parameters_are_checked_like_constructor_arguments(tmp_path):
    corpus = lla.Corpus.from_documents([np.arange(1, 9)] * 4, 10)
    lla.Unigram().fit(corpus).save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    for params, message in (({"smoothing": "abc"}, "smoothing must be a number"),
                            ({"smoothing": 1.0, "colour": 3}, "unknown unigram parameter 'colour'"),
                            ([1, 2], "'params' must be a JSON object")):
        doc["params"] = params
        (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
        with pytest.raises(InputError, match=message):
            lla.load_model(tmp_path / "m")


def test_renamed_parameters_of_older_files_still_load(tmp_path):
    corpus = lla.Corpus.from_documents([np.arange(1, 9)] * 4, 10)
    lla.Autoencoder(n_epochs=1, code_size=2, hidden_size=4, validation=False,
                    random_state=0).fit(corpus).save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    doc["params"]["lr"] = doc["params"].pop("learning_rate")   # as lla 0.1 wrote it
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    assert lla.load_model(tmp_path / "m").learning_rate == doc["params"]["lr"]


def test_defaults_come_from_the_signature():
    sig = inspect.signature(lla.TopicLLA.__init__)
    assert lla.TopicLLA._defaults()["n_iter"] == sig.parameters["n_iter"].default == 20


def test_files_saved_before_a_parameter_existed_load_with_its_old_value(tmp_path):
    """A topic-LLA saved before φ averaging existed (no n_average, no n_wk_mean) loads as the
    unaveraged model it is, not with today's default n_average = 10."""
    corpus = lla.Corpus.from_documents([np.arange(1, 9)] * 6, 10)
    model = lla.TopicLLA(2, n_iter=1, n_average=0, embedding_size=2, hidden_size=2,
                         init_lda_iter=2, init_lstm_epochs=1, n_threads=1,
                         random_state=0).fit(corpus)
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    del doc["params"]["n_average"]
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    loaded = lla.load_model(tmp_path / "m")
    assert loaded.n_average == 0 and loaded.n_wk_mean_ is None
    assert lla.TopicLLA(2).n_average == 10
    assert loaded.perplexity(corpus, n_particles=2) == model.perplexity(corpus, n_particles=2)
