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


def test_compare_writes_everything_matches_evaluate_and_resumes(tmp_path):
    data = generate(n_docs=40, doc_length=40, n_topics=3, vocab_size=60, seed=0)
    corpus = data.corpus
    settings = CompareSettings(topics=[2, 3], lda_iter=20, n_particles=4, seed=1,
                               show_progress=False)
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
