"""See DESIGN §6.

numba + numpy only, never torch.  Modules:

* :mod:`.rng` — SplitMix64, the explicit generator state shared by kernels and twins.
* :mod:`.gibbs` — collapsed Gibbs sampling for LDA (exact dense and O(1) Metropolis–Hastings
  samplers, AD-LDA shards), log p(w, z), fold-in with φ fixed, mixture log-probabilities.
* :mod:`.gibbs_ref` — the slow pure-Python twins of :mod:`.gibbs`, used only by tests.
* :mod:`.windows` — boolean sliding-window counts of words and word pairs (NPMI coherence);
  twin :mod:`.windows_ref`.
"""
