#!/usr/bin/env bash
# Create benchmarks/recbole/.venv: RecBole 1.2.1 with numpy<2, pandas<3 and torch==2.13.0,
# isolated from lla's own environment (which has numpy 2).  Run from anywhere:
#     bash benchmarks/recbole/setup.sh
# Extra arguments go to pip (e.g. an index for CPU-only torch builds).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
"$python" -m venv "$here/.venv"
"$here/.venv/bin/python" -m pip install --upgrade pip
"$here/.venv/bin/python" -m pip install -r "$here/requirements.txt" "$@"
"$here/.venv/bin/python" -c "import recbole, torch, numpy, pandas; print('recbole', recbole.__version__, 'torch', torch.__version__, 'numpy', numpy.__version__, 'pandas', pandas.__version__)"
