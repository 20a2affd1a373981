"""The model options of `lla train` and `lla compare` are generated from the declarations."""

import pytest

from lla.base import registered_models
from lla.cli.main import build_parser, main
from lla.cli.model_options import declarations, model_arguments


@pytest.mark.parametrize("attr", ["flag", "compare_flag"])
def test_one_flag_one_meaning(attr):
    for flag, entries in declarations(attr).items():
        kinds = {(p.kind, p.run_setting) for _, _, p in entries}
        assert len(kinds) == 1, (flag, entries)


def test_help_lists_each_models_default():
    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    text = " ".join(text.split())     # argparse wraps lines
    # one flag, two meanings with their own help: each lists its models and default
    assert "--iterations N Gibbs sweeps over the training prefixes [lda, ddlda; default: 200]" \
        in text
    assert "SEM iterations (SE-step + M-step) [topic-lla, word-lla, char-lla; default: 20]" in text
    assert "--average N lda: θ and φ averaged over the last N sweeps [lda; default: 20]" in text
    assert "φ from the topic counts averaged over N SE-steps run with the final LSTM " \
           "[topic-lla, word-lla, char-lla; default: 10]" in text
    assert "--learning-rate" in text and "default: 0.001 for" in text


def test_an_option_of_another_model_is_refused(tmp_path, capsys):
    parser = build_parser()
    args = parser.parse_args(["train", "c", "--out", "o", "--model", "lda", "--kernel",
                              "window"])
    with pytest.raises(Exception, match="--kernel does not apply to --model lda"):
        model_arguments(registered_models()["lda"], args, "flag", strict=True)
    # run settings apply where they mean something and are ignored elsewhere
    args = parser.parse_args(["train", "c", "--out", "o", "--model", "unigram", "--seed", "3",
                              "--threads", "2"])
    assert model_arguments(registered_models()["unigram"], args, "flag", strict=True) == {}


def test_errors_name_the_flag_the_user_typed(tmp_path, capsys):
    import numpy as np
    from lla import Corpus
    Corpus.from_documents([np.arange(1, 9)] * 4, 10).save(tmp_path / "c")
    for argv, flag in ((["--topics", "0"], "--topics must be an integer >= 1"),
                       (["--seed", "-3"], "--seed must be a non-negative integer"),
                       (["--model", "topic-lla", "--dropout", "2"], "--dropout must be a number"),
                       (["--model", "topic-lla", "--resume"], "--resume needs --checkpoint-dir")):
        assert main(["train", str(tmp_path / "c"), "--out", str(tmp_path / "m")] + argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and flag in err, err
