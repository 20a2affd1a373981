"""Thread scaling of tomotopy at K=100: python benchmarks/tomotopy_threads.py CORPUS_DIR (results in docs/benchmarks.md)."""
import sys
import time, numpy as np, tomotopy as tp, lla
c = lla.Corpus.open(sys.argv[1])
docs = [[str(t) for t in np.asarray(c.prefix(d))] for d in range(len(c))]
for workers in (1, 2, 1, 2):
    m = tp.LDAModel(k=100, alpha=0.1, eta=0.01, seed=1)
    for d in docs: m.add_doc(d)
    m.train(0, workers=workers)
    t = time.perf_counter(); m.train(6, workers=workers, parallel=tp.ParallelScheme.PARTITION if workers > 1 else tp.ParallelScheme.NONE); dt = time.perf_counter() - t
    print("tomotopy workers", workers, f"{6 * c.n_prefix_tokens / dt / 1e6:.2f}M tok/s", tp.isa, flush=True)
