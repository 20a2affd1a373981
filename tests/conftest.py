import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LLA_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data():
    """The benchmark data folder (../shared/data); tests that need it skip without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def torchrun():
    """run(args, nproc=2, env=None, timeout=300, popen=False): ``python -m
    torch.distributed.run --standalone --nproc-per-node NPROC ARGS`` (torchrun) with this
    checkout's lla on the path and one thread per process; returns the CompletedProcess (or the
    Popen with ``popen=True``).  ARGS starting with "-m" run a module, else a script."""
    import subprocess
    import sys

    import lla
    src = str(Path(lla.__file__).resolve().parents[1])

    def run(args, *, nproc=2, env=None, timeout=300, popen=False):
        full_env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
                        PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
                        **(env or {}))
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={nproc}", *map(str, args)]
        if popen:
            return subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        return subprocess.run(cmd, env=full_env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    return run
