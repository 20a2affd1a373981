"""Run torch's many tiny per-token ops on one CPU thread.

The sequential loops (SE-step, particle filter) issue ~30 small tensor ops per token step; on
the CPU, intra-op threads only add barrier waits there, and on a busy machine (or next to
numba's worker threads) those waits dominate: measured on 2 busy cores, movielens SE-step
163k tokens/s on one thread vs 61k on two.  No effect on CUDA devices.
"""

import contextlib

import torch


@contextlib.contextmanager
def single_cpu_thread(device):
    if torch.device(device).type != "cpu":
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)
