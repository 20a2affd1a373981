import pytest
from lla.cli.main import main


@pytest.mark.slow
def test_demo_runs_end_to_end_on_a_slice(tmp_path, capsys):
    code = main(["demo", "--docs", "6", "--topics", "3", "--hidden", "8", "--embedding", "8",
                 "--lda-iterations", "5", "--sem-iterations", "1", "--particles", "2",
                 "--show-topics", "2", "--out", str(tmp_path / "demo")])
    out = capsys.readouterr().out
    assert code == 0
    assert "6 articles" in out
    for name in ("unigram", "LDA (K=3)", "topic-LLA (K=3"):
        assert name in out
    assert "top words of topic-lla" in out
    assert (tmp_path / "demo" / "topic-lla" / "model.json").exists()
    assert (tmp_path / "demo" / "wiki-sample" / "meta.json").exists()


def test_demo_bad_argument(capsys):
    assert main(["demo", "--docs", "0"]) == 2
    assert "--docs must be >= 1" in capsys.readouterr().err
