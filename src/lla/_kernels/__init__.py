"""See DESIGN §6.

numba + numpy only, never torch.  Modules:

* :mod:`.rng` — SplitMix64, the explicit generator state shared by kernels and twins.
* :mod:`.gibbs` — collapsed Gibbs sampling for LDA (exact dense and O(1) Metropolis–Hastings
  samplers, AD-LDA shards), log p(w, z), fold-in with φ fixed, mixture log-probabilities.
* :mod:`.gibbs_ref` — the slow pure-Python twins of :mod:`.gibbs`, used only by tests.
* :mod:`.windows` — boolean sliding-window counts of words and word pairs (NPMI coherence);
  twin :mod:`.windows_ref`.
* :mod:`.alias` — Walker/Vose alias tables (O(1) draws from a fixed distribution), one per row
  of a CSR matrix too; twin :mod:`.alias_ref`.
* :mod:`.se_mh` — topic-LLA's Metropolis–Hastings SE-step draws for large K (word proposal from
  the sparse + dense split of φ, document proposal, only the proposed topics' logits); twin
  :mod:`.se_mh_ref`.
"""
