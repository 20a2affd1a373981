"""`lla train`, `lla evaluate`, `lla topics` end to end on a tiny corpus."""

import json
import subprocess
import sys

import numpy as np
import pytest

from lla import Corpus, load_model
from lla.cli.main import main


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    rng = np.random.default_rng(0)
    docs = [np.concatenate([rng.integers(1, 10, 30), rng.integers(10, 20, 10)])
            if d % 2 else rng.integers(10, 20, 40) for d in range(12)]
    path = tmp_path_factory.mktemp("cli") / "corpus"
    Corpus.from_documents(docs, 20).save(path)
    return path


@pytest.fixture(scope="module")
def model_dir(corpus_dir):
    out = corpus_dir.parent / "model"
    code = main(["train", str(corpus_dir), "--model", "lda", "--topics", "3", "--iterations",
                 "15", "--seed", "1", "--threads", "1", "--alpha", "0.2", "--out", str(out)])
    assert code == 0
    return out


def test_train_writes_a_loadable_model(model_dir, corpus_dir, capsys):
    model = load_model(model_dir)
    assert model.n_topics == 3 and model.alpha == 0.2 and model.n_iter_done_ == 15
    assert model.corpus_path_ == str(corpus_dir.resolve())


def test_train_refuses_to_overwrite_without_force(model_dir, corpus_dir, capsys):
    args = ["train", str(corpus_dir), "--topics", "3", "--iterations", "2", "--out",
            str(model_dir)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "already exists" in err and len(err.splitlines()) == 1
    assert main(args + ["--force", "--seed", "2"]) == 0


def test_evaluate_json_defaults_to_training_corpus(model_dir, corpus_dir, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(model_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    model = load_model(model_dir)
    corpus = Corpus.open(corpus_dir)
    assert result["perplexity"] == pytest.approx(model.perplexity(corpus))
    assert result["heldout_tokens"] == corpus.n_suffix_tokens
    # nnz of the counts φ is made from (averaged over the last sweeps): at least the last's
    assert result["parameters"]["nonzero"] == model.n_nonzero_ >= np.count_nonzero(model.n_wk_)
    assert main(["evaluate", str(model_dir), str(corpus_dir)]) == 0
    assert "perplexity" in capsys.readouterr().out


def test_topics(model_dir, capsys):
    capsys.readouterr()
    assert main(["topics", str(model_dir), "--top", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    # "k  w · w · w · w": item names may hold spaces, so words are separated by " · "
    assert len(lines) == 3
    assert all(len(line.split("  ", 1)[1].split(" · ")) == 4 for line in lines)
    assert main(["topics", str(model_dir), "--json", "--top", "2"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"0", "1", "2"}


@pytest.mark.parametrize("argv", [
    ["train", "{corpus}", "--topics", "0", "--out", "{tmp}/x"],
    ["train", "{corpus}", "--alpha", "-1", "--out", "{tmp}/x"],
    ["train", "{tmp}/missing", "--out", "{tmp}/x"],
    ["evaluate", "{tmp}/missing"],
    ["topics", "{model}", "--top", "0"],
])
def test_bad_arguments_exit_2_with_one_line(argv, corpus_dir, model_dir, tmp_path, capsys):
    argv = [a.format(corpus=corpus_dir, tmp=tmp_path, model=model_dir) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"lla {argv[0]}: error:")


@pytest.mark.slow
def test_unknown_model_choice_is_a_usage_error(corpus_dir, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lla", "train", str(corpus_dir), "--model",
                           "nope", "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


_SMALL_LLA = ["--topics", "3", "--hidden", "8", "--embedding", "8", "--init-lda-iterations", "5",
              "--init-lstm-epochs", "1", "--lstm-epochs", "1", "--threads", "1"]


@pytest.mark.parametrize("model, extra, unit", [
    ("unigram", [], None),
    ("ddlda", ["--topics", "3", "--iterations", "4", "--width", "3", "--particles", "2"],
     None),
    ("topic-lla", _SMALL_LLA + ["--iterations", "1"], "1 SEM iterations"),
    ("word-lla", _SMALL_LLA + ["--iterations", "1"], "1 SEM iterations"),
    ("independent", _SMALL_LLA, None),
    ("word-lstm", ["--hidden", "8", "--embedding", "8", "--epochs", "2"], "best epoch"),
    ("char-lstm", ["--hidden", "8", "--embedding", "8", "--epochs", "1"], "best epoch"),
    ("autoencoder", ["--epochs", "3", "--code-size", "4"], "best epoch"),
])
def test_train_every_model_then_evaluate(model, extra, unit, corpus_dir, tmp_path, capsys):
    out = tmp_path / model
    assert main(["train", str(corpus_dir), "--model", model, "--seed", "1", "--no-progress",
                 "--out", str(out)] + extra) == 0
    summary = capsys.readouterr().out
    assert f"trained {model}" in summary and (unit is None or unit in summary)
    assert "sweeps" not in summary or model in ("lda", "ddlda")
    loaded = load_model(out)
    assert loaded.model_name == model
    assert main(["evaluate", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert np.isfinite(result["perplexity"]) and result["perplexity"] > 1


def test_defaults_of_iterations_depend_on_the_model():
    from lla.base import registered_models
    from lla.cli.main import build_parser
    from lla.cli.model_options import model_arguments
    parser = build_parser()
    for name, iterations in (("topic-lla", 20), ("lda", 200)):
        args = parser.parse_args(["train", "c", "--out", "o", "--model", name])
        cls = registered_models()[name]
        assert cls(**model_arguments(cls, args, "flag", strict=True)).n_iter == iterations


def test_independent_learner_refuses_iterations(corpus_dir, tmp_path, capsys):
    assert main(["train", str(corpus_dir), "--model", "independent", "--iterations", "3",
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--iterations" in err
