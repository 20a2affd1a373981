import json

import pytest

from lla import ParameterError, load_model
from lla.compare import CompareSettings, compare, plan_runs
from lla.data.synthetic import generate
from lla.evaluation import evaluate


def test_plan_runs():
    assert plan_runs(["unigram", "lda"], [5, 10]) == [("unigram", "unigram", None),
                                                       ("lda-K5", "lda", 5), ("lda-K10", "lda", 10)]
    with pytest.raises(ParameterError, match="unknown model 'gpt'"):
        plan_runs(["gpt"], [5])
    with pytest.raises(ParameterError, match="--topics"):
        plan_runs(["lda"], [])


@pytest.mark.slow
def test_compare_writes_everything_matches_evaluate_and_resumes(tmp_path):
    data = generate(n_docs=40, doc_length=40, n_topics=3, vocab_size=60, seed=0)
    corpus = data.corpus
    settings = CompareSettings(topics=[2, 3], options={"lda_iterations": 20, "particles": 4},
                               seed=1, show_progress=False)
    results = compare(corpus, tmp_path / "cmp", ["unigram", "lda", "ddlda"], settings,
                      command="lla compare test")
    assert [r["run"] for r in results] == ["unigram", "lda-K2", "lda-K3", "ddlda-K2", "ddlda-K3"]
    for name in ("results.json", "results.md", "ppl_vs_size.png", "ppl_vs_topics.png",
                 "joint_vs_independent.png"):
        assert (tmp_path / "cmp" / name).stat().st_size > 0
    doc = json.loads((tmp_path / "cmp" / "results.json").read_text())
    assert doc["command"] == "lla compare test" and len(doc["results"]) == 5
    md = (tmp_path / "cmp" / "results.md").read_text()
    # the table matches what `evaluate` gives for each saved model
    for r in results:
        model = load_model(tmp_path / "cmp" / "runs" / r["run"] / "model")
        kwargs = {"n_particles": 4} if r["model"] == "ddlda" else {}
        again = evaluate(model, corpus, **kwargs)
        assert again["perplexity"] == pytest.approx(r["perplexity"], rel=1e-9)
        assert f"| {r['run']} | {r['perplexity']:.1f} |" in md
    # resume: finished runs are read back, not retrained
    mtime = (tmp_path / "cmp" / "runs" / "lda-K2" / "model" / "model.json").stat().st_mtime_ns
    again = compare(corpus, tmp_path / "cmp", ["unigram", "lda"], settings)
    assert [r["perplexity"] for r in again] == [r["perplexity"] for r in results[:3]]
    assert (tmp_path / "cmp" / "runs" / "lda-K2" / "model" / "model.json").stat().st_mtime_ns == mtime


@pytest.mark.slow
def test_cli_compare_every_model_on_event_data(tmp_path, capsys):
    """`lla compare` with all ten models on a tiny event log: every file is written, the table
    has HR@10 / MRR and each row equals `lla evaluate` of the saved model."""
    import numpy as np
    from lla import Corpus
    from lla.cli.main import main
    from lla.compare import DEFAULT_MODELS

    data = generate(n_docs=30, doc_length=30, n_topics=3, vocab_size=40, seed=2,
                    condition_on="topic")
    lines = ["user,item,timestamp"]
    for d, doc in enumerate(data.corpus):
        lines += [f"u{d},item{int(w)},{t}" for t, w in enumerate(doc)]
    (tmp_path / "events.csv").write_text("\n".join(lines) + "\n")
    assert main(["prepare", str(tmp_path / "events.csv"), "--format", "events",
                 "--out", str(tmp_path / "corpus")]) == 0
    out = tmp_path / "cmp"
    argv = ["compare", str(tmp_path / "corpus"), "--out", str(out), "--topics", "2,3",
            "--embedding", "8", "--hidden", "8", "--lda-iterations", "5", "--sem-iterations",
            "1", "--init-lstm-epochs", "1", "--lstm-epochs", "1", "--epochs", "2",
            "--particles", "2", "--seed", "3", "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "HR@10" in printed and "wrote" in printed
    doc = json.loads((out / "results.json").read_text())
    runs = {r["run"]: r for r in doc["results"]}
    with_topics = {"lda", "ddlda", "topic-lla", "word-lla", "char-lla", "independent"}
    assert len(runs) == sum(2 if m in with_topics else 1 for m in DEFAULT_MODELS)
    assert doc["settings"]["options"]["sem_iterations"] == 1
    assert doc["settings"]["options"]["init_lstm_epochs"] == 1
    md = (out / "results.md").read_text()
    assert "| HR@10 | MRR |" in md
    for name in ("ppl_vs_size.png", "ppl_vs_topics.png", "joint_vs_independent.png"):
        assert (out / name).stat().st_size > 0
    corpus = Corpus.open(tmp_path / "corpus")
    for run, r in runs.items():
        assert np.isfinite(r["perplexity"]) and r["train_seconds"] >= 0
        assert 0 <= r["hr@10"] <= 1 and 0 < r["mrr"] <= 1, run   # every model ranks
        assert f"| {run} | {r['perplexity']:.1f} |" in md
        assert main(["evaluate", str(out / "runs" / run / "model"), "--json",
                     "--particles", "2"]) == 0
        again = json.loads(capsys.readouterr().out)
        assert again["perplexity"] == pytest.approx(r["perplexity"], rel=1e-9), run
        assert again["heldout_tokens"] == corpus.n_suffix_tokens
        assert again["hr@10"] == pytest.approx(r["hr@10"]) and again["mrr"] == pytest.approx(
            r["mrr"]), run
    # joint SEM and the independent learner start from the same LDA and LSTM
    assert runs["topic-lla-K3"]["params"]["init_lda_iter"] == runs["independent-K3"]["params"][
        "init_lda_iter"]


@pytest.mark.slow
def test_convergence_curves_for_every_model_that_iterates(tmp_path):
    """--convergence: LDA and topic-LLA record validation perplexity against training time on
    a split of the prefixes (a fresh copy; the table's model is the ordinary one), the LSTM LM
    its own validation stage, the unigram nothing; convergence.png is drawn."""
    import numpy as np

    data = generate(n_docs=30, doc_length=40, n_topics=3, vocab_size=20, seed=4)
    options = {"lda_iterations": 20, "particles": 4, "sem_iterations": 2, "init_lstm_epochs": 1,
               "lstm_epochs": 1, "hidden": 6, "embedding": 4, "epochs": 2}
    plain = compare(data.corpus, tmp_path / "plain", ["lda", "topic-lla"],
                    CompareSettings(topics=[3], options=options, seed=1, show_progress=False))
    settings = CompareSettings(topics=[3], options=options, seed=1, show_progress=False,
                               convergence=True)
    results = compare(data.corpus, tmp_path / "cmp", ["unigram", "lda", "topic-lla", "word-lstm"],
                      settings)
    curves = {r["run"]: np.asarray(r["convergence"]) for r in results}
    assert curves["unigram"].size == 0
    assert len(curves["lda-K3"]) == 2                     # every 10 sweeps of 20
    assert len(curves["topic-lla-K3"]) == 4               # iterations 0, 1, 2, φ averaged
    assert len(curves["word-lstm"]) >= 1
    for run in ("lda-K3", "topic-lla-K3", "word-lstm"):
        seconds, ppl = curves[run].T
        assert np.all(np.diff(seconds) > 0) and np.all(np.isfinite(ppl)) and np.all(ppl > 1)
    # the curve is recorded on a copy: the scored models are the same as without --convergence
    for a, b in zip(plain, results[1:3]):
        assert a["perplexity"] == b["perplexity"]
    assert (tmp_path / "cmp" / "convergence.png").stat().st_size > 0
