"""Benchmark `lla prepare --preset wiki`: tokens per second, peak RSS, and store open time.

Runs `lla prepare` in a fresh subprocess per corpus (so peak RSS is that process's alone) on the
3.2M-token benchmark corpus and on the 16M-word large Wikipedia file, then times
`Corpus.open` and one full pass over the memory-mapped tokens.

    python benchmarks/prepare.py [--data ../shared/data] [--out benchmarks/out]
"""

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = {
    "wiki (benchmark, 1,411 articles)": "enwiki-2015-wikiextractor/enwiki-AA-00-19.txt.xz",
    "wiki-large (6,466 articles)": "enwiki-2015-large/enwiki-AB-00-99.txt.xz",
}

CHILD = r"""
import json, resource, sys, time
from lla.data.build import prepare, preset
start = time.perf_counter()
c = prepare([sys.argv[1]], sys.argv[2], preset("wiki"), force=True)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "n_tokens": c.n_tokens, "n_docs": len(c),
                  "n_types_seen": c.meta["statistics"]["n_types_seen"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

OPEN = r"""
import json, sys, time
import numpy as np
start = time.perf_counter()
from lla import Corpus
import_s = time.perf_counter() - start
start = time.perf_counter()
c = Corpus.open(sys.argv[1])
open_s = time.perf_counter() - start
start = time.perf_counter()
total = int(np.asarray(c.tokens, dtype=np.int64).sum())
pass_s = time.perf_counter() - start
print(json.dumps({"open_seconds": open_s, "full_pass_seconds": pass_s}))
"""


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    args = ap.parse_args()
    rows = []
    for name, rel in FILES.items():
        path = Path(args.data) / rel
        out = Path(args.out) / ("prepare-" + path.name.split(".")[0])
        r = json.loads(subprocess.run([sys.executable, "-c", CHILD, str(path), str(out)],
                                      check=True, capture_output=True, text=True).stdout)
        o = json.loads(subprocess.run([sys.executable, "-c", OPEN, str(out)], check=True,
                                      capture_output=True, text=True).stdout)
        size_mb = sum(f.stat().st_size for f in out.iterdir()) / 2**20
        rows.append((name, r, o, size_mb))
        print(name, r, o, f"{size_mb:.1f} MB", flush=True)
    print()
    print(f"Machine: {cpu_name()}, {__import__('os').cpu_count()} cores; "
          f"{time.strftime('%Y-%m-%d')}; Python {platform.python_version()}")
    print()
    print("| corpus | documents | tokens | types seen | prepare s | tokens/s | peak RSS MB | "
          "store MB | open s | full pass s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r, o, size in rows:
        print(f"| {name} | {r['n_docs']:,} | {r['n_tokens']:,} | {r['n_types_seen']:,} | "
              f"{r['seconds']:.1f} | {r['n_tokens'] / r['seconds']:,.0f} | "
              f"{r['peak_rss_mb']:.0f} | {size:.1f} | {o['open_seconds']:.4f} | "
              f"{o['full_pass_seconds']:.3f} |")


if __name__ == "__main__":
    main()
