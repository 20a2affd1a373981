"""Network and optimizer state as plain numpy arrays (DESIGN §8): what a model file holds in
``arrays.safetensors`` — never pickle, never ``torch.load``.

* :func:`tensors_to_numpy` / :func:`numpy_to_tensors`: a ``state_dict`` ↔ named arrays under a
  key prefix (``"dynamics."``, ``"best.dynamics."``, ...).
* :func:`optimizer_arrays` / :func:`load_optimizer`: AdamW's moments by parameter name, so a
  resumed run continues the optimizer exactly.
"""

import numpy as np
import torch


def tensors_to_numpy(prefix, state_dict):
    """{prefix + name: numpy array} of a ``state_dict`` (copied to the CPU)."""
    return {prefix + k: v.detach().cpu().numpy() for k, v in state_dict.items()}


def numpy_to_tensors(prefix, arrays, device):
    """The inverse of :func:`tensors_to_numpy`: {name: tensor on ``device``} of the arrays whose
    key starts with ``prefix``."""
    return {k[len(prefix):]: torch.as_tensor(np.array(v), device=device)
            for k, v in arrays.items() if k.startswith(prefix)}


def optimizer_arrays(optimizer, module):
    """AdamW moments as arrays ``optimizer.<param name>.exp_avg|exp_avg_sq`` and the steps
    {param name: float}: (arrays, steps)."""
    names = {id(p): n for n, p in module.named_parameters()}
    arrays, steps = {}, {}
    for p in optimizer.param_groups[0]["params"]:
        st = optimizer.state.get(p)
        if not st:
            continue
        name = names[id(p)]
        arrays[f"optimizer.{name}.exp_avg"] = st["exp_avg"].detach().cpu().numpy()
        arrays[f"optimizer.{name}.exp_avg_sq"] = st["exp_avg_sq"].detach().cpu().numpy()
        steps[name] = float(st["step"])
    return arrays, steps


def load_optimizer(optimizer, saved, module):
    """Put AdamW moments saved by :func:`optimizer_arrays` (``saved`` = (steps, arrays)) into
    ``optimizer`` (whose hyper-parameters, e.g. lr and weight decay, are kept)."""
    steps, arrays = saved
    device = next(module.parameters()).device
    state = {}
    for i, (name, _) in enumerate(module.named_parameters()):
        if name in steps:
            state[i] = {"step": torch.tensor(steps[name]),
                        "exp_avg": torch.as_tensor(np.array(arrays[f"optimizer.{name}.exp_avg"]),
                                                   device=device),
                        "exp_avg_sq": torch.as_tensor(
                            np.array(arrays[f"optimizer.{name}.exp_avg_sq"]), device=device)}
    state_dict = optimizer.state_dict()
    state_dict["state"] = state
    optimizer.load_state_dict(state_dict)
