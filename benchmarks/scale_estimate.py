"""On paper: topic-LLA on the paper's 0.7B-token Wikipedia with N processes (docs/distributed.md).

    python benchmarks/scale_estimate.py [--tokens 7e8] [--vocab 100000] [--topics 100 1000]
        [--processes 1 8 64 512] [--bandwidth 1.25e9] [--latency 50e-6] [rates ...]

A model, not a measurement: the per-process rates (one thread) default to what this machine
measured in CPU seconds (docs/benchmarks.md, "Several processes": the wiki slice and an LSTM
step micro-benchmark at K=100, E=H=128; LDA and scoring from the wiki K=100 rows) and the
network to 10 Gb/s Ethernet with 50 µs per message.  The SE-step's rate is that of K=100 (its
cost grows with K: O(K·H + H²) per token).  Collectives as torch.distributed's ring algorithms: an all-reduce of b bytes
costs 2(N−1)/N·b/bandwidth + 2(N−1)·latency, an all-gather of b bytes in all (N−1)/N·b/bandwidth
+ (N−1)·latency.  An LSTM optimizer step costs a fixed time (the LSTM's sequential time steps,
Adam) plus a time per token of the minibatch, plus the all-reduce of the gradients.
"""

import argparse


def allreduce(nbytes, N, bw, lat):
    return 0.0 if N == 1 else 2 * (N - 1) / N * nbytes / bw + 2 * (N - 1) * lat


def allgather(nbytes, N, bw, lat):
    return 0.0 if N == 1 else (N - 1) / N * nbytes / bw + (N - 1) * lat


def lstm_params(K, V, E=128, H=128):
    """Dense parameters of topic-LLA's dynamics: K×E table + x_0, LSTM, W_p and b_p."""
    return K * E + E + 4 * H * (E + H) + 8 * H + H * K + K


def estimate(a, K, N):
    prefix = a.tokens * a.prefix_fraction
    counts = a.vocab * K * 4                      # n_wk, int32
    grads = lstm_params(K, a.vocab) * 4           # float32
    row = {}
    row["SE-step"] = prefix / N / a.se_rate
    row["n_wk all-reduce"] = allreduce(counts, N, a.bandwidth, a.latency)
    row["z all-gather"] = allgather(prefix * 4, N, a.bandwidth, a.latency)
    step_tokens = a.batch * a.bptt                # one global step: batch documents × bptt
    steps = prefix / step_tokens
    comm = allreduce(grads, N, a.bandwidth, a.latency)
    row["LSTM epoch, batch fixed"] = steps * (a.step_fixed + step_tokens / N * a.per_token
                                              + comm)
    row["  of which gradient all-reduce"] = steps * comm
    row["LSTM epoch, batch ×N"] = steps / N * (a.step_fixed + step_tokens * a.per_token + comm)
    row["SEM iteration (batch fixed)"] = (row["SE-step"] + row["n_wk all-reduce"]
                                          + row["z all-gather"] + row["LSTM epoch, batch fixed"])
    row["SEM iteration (batch ×N)"] = (row["SE-step"] + row["n_wk all-reduce"]
                                       + row["z all-gather"] + row["LSTM epoch, batch ×N"])
    row["LDA sweep (exact) + delta all-reduce"] = prefix / N / a.lda_rate + row["n_wk all-reduce"]
    row["scoring, S=16"] = a.tokens / N / a.score_rate
    row["memory/process: tokens+z (GB)"] = prefix * 8 / 1e9
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=float, default=7e8)
    ap.add_argument("--prefix-fraction", type=float, default=0.6)
    ap.add_argument("--vocab", type=int, default=100_000)
    ap.add_argument("--topics", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 8, 64, 512])
    ap.add_argument("--batch", type=int, default=32, help="documents per optimizer step")
    ap.add_argument("--bptt", type=int, default=64)
    ap.add_argument("--se-rate", type=float, default=2e5, help="SE-step tokens/s, 1 thread")
    ap.add_argument("--per-token", type=float, default=12.5e-6,
                    help="LSTM training seconds per token of a minibatch, 1 thread")
    ap.add_argument("--step-fixed", type=float, default=2.5e-3,
                    help="LSTM seconds per optimizer step whatever its size, 1 thread")
    ap.add_argument("--lda-rate", type=float, default=4.7e6, help="LDA sweep tokens/s")
    ap.add_argument("--score-rate", type=float, default=12e3,
                    help="particle filter (S=16) tokens/s")
    ap.add_argument("--bandwidth", type=float, default=1.25e9, help="bytes/s per process")
    ap.add_argument("--latency", type=float, default=50e-6, help="seconds per message")
    a = ap.parse_args()
    for K in a.topics:
        rows = {N: estimate(a, K, N) for N in a.processes}
        print(f"\nK = {K}, V = {a.vocab:,}, {a.tokens / 1e9:.2f}B tokens "
              f"({a.tokens * a.prefix_fraction / 1e9:.2f}B training), n_wk "
              f"{a.vocab * K * 4 / 1e6:,.0f} MB, LSTM {lstm_params(K, a.vocab):,} parameters; "
              f"seconds unless said otherwise\n")
        print("| | " + " | ".join(f"N = {N}" for N in a.processes) + " |")
        print("|---|" + "---:|" * len(a.processes))
        for key in rows[a.processes[0]]:
            print(f"| {key} | " + " | ".join(f"{rows[N][key]:,.3g}" for N in a.processes)
                  + " |")


if __name__ == "__main__":
    main()
