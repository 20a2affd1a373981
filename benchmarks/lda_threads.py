"""Thread scaling of lla.LDA at K=100: python benchmarks/lda_threads.py CORPUS_DIR (results in docs/benchmarks.md)."""
import sys
import time

import lla
c = lla.Corpus.open(sys.argv[1])
for sampler in ("exact", "mh"):
    res = {}
    for T in (1, 2, 1, 2):
        m = lla.LDA(100, n_iter=6, sampler=sampler, n_threads=T, random_state=0, evaluate_every=1000)
        t = time.perf_counter(); m.fit(c); dt = time.perf_counter() - t
        res.setdefault(T, []).append(6 * c.n_prefix_tokens / dt)
    print(sampler, {T: f"{max(v)/1e6:.2f}M tok/s" for T, v in res.items()}, "ratio 2/1 = %.2f" % (max(res[2]) / max(res[1])), flush=True)
