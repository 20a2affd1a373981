import json

import numpy as np
import pytest

from lla import Corpus, InputError, NotFittedError, Unigram, load_model


def test_unfitted_model_refuses(tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        Unigram().save(tmp_path / "m")
    c = Corpus.from_documents([np.array([1, 2, 3])], 4)
    with pytest.raises(NotFittedError):
        Unigram().perplexity(c)


def test_get_params_and_repr():
    m = Unigram(smoothing=0.5)
    assert m.get_params() == {"smoothing": 0.5}
    assert repr(m) == "Unigram(smoothing=0.5)"


def test_load_errors(tmp_path):
    with pytest.raises(InputError, match="model.json missing"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text("{broken")
    with pytest.raises(InputError, match="corrupt model.json"):
        load_model(tmp_path)
    c = Corpus.from_documents([np.array([1, 2, 3, 1, 1])], 4)
    Unigram().fit(c).save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    doc["model"] = "nonsense"
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="unknown model type 'nonsense'"):
        load_model(tmp_path / "m")
    doc["model"] = "unigram"
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    (tmp_path / "m" / "arrays.safetensors").write_bytes(b"garbage")
    with pytest.raises(InputError, match="cannot read arrays.safetensors"):
        load_model(tmp_path / "m")


def test_save_is_atomic_and_refuses_overwrite(tmp_path):
    c = Corpus.from_documents([np.array([1, 2, 3, 1, 1])], 4)
    m = Unigram().fit(c)
    m.save(tmp_path / "m")
    with pytest.raises(InputError, match="already exists"):
        m.save(tmp_path / "m")
    m.save(tmp_path / "m", force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_atomic_writes_get_the_usual_permissions(tmp_path):
    """Results and models must be readable like any file the user writes (mkstemp would leave
    0600 / 0700)."""
    import os
    import stat
    from lla._atomic import atomic_directory, atomic_write_text
    mask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "r.json", "{}")
        with atomic_directory(tmp_path / "model") as tmp:
            (tmp / "a").write_text("x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == 0o755
