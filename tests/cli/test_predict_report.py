"""`lla predict` and `lla report` end to end, and their bad input (one line, exit 2)."""

import json

import pytest

import lla
from lla.cli.main import main
from lla.data.synthetic import generate


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict")
    data = generate(n_docs=30, doc_length=30, n_topics=3, vocab_size=20, seed=4)
    names = [None] + [f"Film {i} (19{50 + i})" for i in range(1, 20)]
    corpus = lla.Corpus.from_documents(list(data.corpus), 20, item_names=names)
    corpus.save(root / "corpus")
    corpus = lla.Corpus.open(root / "corpus")
    lla.TopicLLA(3, embedding_size=4, hidden_size=6, n_iter=1, init_lda_iter=5,
                 init_lstm_epochs=1, lstm_epochs_per_iter=1, n_particles=4, n_threads=1,
                 random_state=0, show_progress=False).fit(corpus).save(root / "tlla")
    lla.LDA(3, n_iter=10, n_threads=1, random_state=0,
            show_progress=False).fit(corpus).save(root / "lda")
    lla.WordLSTM(4, 4, n_epochs=1, validation=False, n_threads=1,
                 random_state=0).fit(corpus).save(root / "lstm")
    return root


def test_predict_one_history_as_a_table(trained, capsys):
    assert main(["predict", str(trained / "tlla"), "--history", "w3", "w5", "w9", "--items", "3"]) == 0
    out = capsys.readouterr().out
    assert "read as topics:" in out and "next topic" in out and "Film" in out
    assert len([line for line in out.splitlines() if line.strip()[:2] in ("1.", "2.", "3.")]) == 3


def test_predict_a_file_of_histories_as_json_and_csv(trained, tmp_path, capsys):
    (tmp_path / "h.txt").write_text("w3 w5 w9\n\nw7 w7 unknown-item\n")
    assert main(["predict", str(trained / "lda"), "--input", str(tmp_path / "h.txt"),
                 "--format", "json", "--items", "2"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [g["name"] for g in got] == ["line 1", "line 3"]
    assert got[1]["unknown"] == ["unknown-item"] and len(got[0]["items"]) == 2
    assert got[0]["history_topics"] and got[0]["path"] is None
    assert main(["predict", str(trained / "lstm"), "--input", str(tmp_path / "h.txt"),
                 "--format", "csv"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert rows[0].startswith("history,kind,rank") and len(rows) == 1 + 2 * 10


def test_predict_from_an_event_file_grouped_by_user(trained, tmp_path, capsys):
    (tmp_path / "ev.csv").write_text("user,item,timestamp\nu1,w3,1\nu2,w4,1\nu1,w5,2\n")
    assert main(["predict", str(trained / "tlla"), "--input", str(tmp_path / "ev.csv"),
                 "--input-format", "events", "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [(g["name"], g["history"]) for g in got] == [("u1", ["w3", "w5"]), ("u2", ["w4"])]


@pytest.mark.parametrize("argv,message", [
    (["predict", "{root}/nope", "--history", "w3"], "not a saved lla model"),
    (["predict", "{root}/tlla", "--history", "x", "y"], "none of the histories' items"),
    (["predict", "{root}/lstm", "--history", "w3", "--topics", "2"], "has no topics"),
    (["predict", "{root}/tlla", "--input", "{root}/missing.txt"], "missing.txt"),
    (["predict", "{root}/tlla", "--input", "{root}/bad.csv", "--input-format", "events"],
     "bad.csv"),
    (["report", "{root}/nope", "--out", "{root}/r"], "not a saved lla model"),
])
def test_bad_input_is_one_line(trained, capsys, argv, message):
    (trained / "bad.csv").write_text("who,what\n1,2\n")
    argv = [a.format(root=trained) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err, err


def test_report_of_two_models(trained, tmp_path, capsys):
    assert main(["report", str(trained / "lda"), str(trained / "tlla"), "--out",
                 str(tmp_path / "r")]) == 0
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "Topic hierarchy" in html and "Next-topic transitions (lstm)" in html
    assert "Film" in html and "data:image/png;base64" in html
    assert "<script src" not in html and "<link" not in html      # self-contained
    assert html.count("<table") >= 3


def test_report_names_models_by_their_run(trained, tmp_path):
    """A model saved in lla compare's RUN/model layout is shown as RUN; equal names get numbers."""
    import shutil
    shutil.copytree(trained / "lda", tmp_path / "runs" / "lda-K3" / "model")
    assert main(["report", str(tmp_path / "runs" / "lda-K3" / "model"), str(trained / "lda"),
                 str(trained / "lda"), "--out", str(tmp_path / "r")]) == 0
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<h2>lda-K3</h2>" in html and "<h2>lda (2)</h2>" in html and "<h2>lda (3)</h2>" in html
    assert "<h2>model</h2>" not in html


def test_prepare_with_another_corpus_vocabulary_and_topic_coherence(tmp_path, capsys):
    """A reference corpus prepared with the model's vocabulary (`lla prepare --vocabulary`) is
    accepted by `lla topics --coherence --reference`; one with its own vocabulary is refused."""
    (tmp_path / "a.txt").write_text("the cat sat on the mat with the hat\n" * 30 +
                                    "a dog ran in the park after a ball\n" * 30)
    (tmp_path / "b.txt").write_text("the dog sat on the mat\nthe cat ran in the zoo\n" * 20)
    assert main(["prepare", str(tmp_path / "a.txt"), "--out", str(tmp_path / "a"),
                 "--no-progress"]) == 0
    assert main(["prepare", str(tmp_path / "b.txt"), "--out", str(tmp_path / "b"),
                 "--vocabulary", str(tmp_path / "a"), "--no-progress"]) == 0
    assert main(["prepare", str(tmp_path / "b.txt"), "--out", str(tmp_path / "own"),
                 "--no-progress"]) == 0
    assert lla.Corpus.open(tmp_path / "b").vocab.types == lla.Corpus.open(tmp_path / "a").vocab.types
    assert main(["train", str(tmp_path / "a"), "--model", "lda", "--topics", "2", "--iterations",
                 "5", "--threads", "1", "--seed", "0", "--out", str(tmp_path / "m")]) == 0
    capsys.readouterr()
    assert main(["topics", str(tmp_path / "m"), "--coherence", "--reference",
                 str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "mean NPMI" in out and "topic diversity" in out
    assert main(["topics", str(tmp_path / "m"), "--coherence", "--reference",
                 str(tmp_path / "own")]) == 2
    assert "word types but the model was trained with" in capsys.readouterr().err
