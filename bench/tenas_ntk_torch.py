#!/usr/bin/python3
"""tenas_ntk_torch.py — TE-NAS's NTK procedure in PyTorch on CPU, written from the
published definition, as the speed reference for monas's ntk proxy: one forward in
training mode, then one backward per sample (logit[i] summed, retain_graph) collecting
the gradients of every parameter named "weight" (conv, BN gamma, linear), J·Jᵀ, and
λmax/λmin from a symmetric eigensolver.

It runs on the network, parameters and inputs monas used (a `monas-worker score --dump`
directory), so the condition number must match monas's exact mode.
    usage: /usr/bin/python3 bench/tenas_ntk_torch.py DUMP_DIR [threads] [repeats]
Prints: seconds per NTK (best and median of repeats), the condition number."""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                'fixtures'))
from gen_proxy_fixtures import Dump, selected  # noqa: E402


def tenas_ntk(net, x):
    params = selected(net, ('weight', 'gamma'))
    net.zero_grad()
    logit = net(x)
    grads = []
    for i in range(x.shape[0]):
        logit[i:i + 1].backward(torch.ones_like(logit[i:i + 1]), retain_graph=True)
        grads.append(torch.cat([p.grad.view(-1) if p.grad is not None
                                else torch.zeros_like(p).view(-1) for p in params]))
        net.zero_grad()
    J = torch.stack(grads, 0)
    ntk = torch.einsum('nc,mc->nm', J, J)
    e = torch.linalg.eigvalsh(ntk)
    return (e[-1] / e[0]).item()


def main():
    d = Dump(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    torch.set_num_threads(threads)
    net, _ = d.net('ntk', 0)
    x = d.inputs('ntk', 0, net)
    times, cond = [], None
    for _ in range(repeats):
        t = time.time()
        cond = tenas_ntk(net, x)
        times.append(time.time() - t)
    times.sort()
    print(f'torch_seconds {times[0]:.3f} median {times[(len(times) - 1) // 2]:.3f} '
          f'cond {cond:.6g} threads {threads} batch {x.shape[0]}')


if __name__ == '__main__':
    np.set_printoptions(precision=4)
    main()
