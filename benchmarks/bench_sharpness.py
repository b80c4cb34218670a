"""Sharpness estimation on the edge-of-stability model: Lanczos vs power iteration, and
implicitbias's compiled Lanczos vs a PyTorch double-backward Lanczos.

Model and data: a 784-200-200-10 tanh MLP (PyTorch's ``nn.Linear`` init, ``init_mlp``) with
the square loss on 5000 Fashion-MNIST training images (``fashion_mnist.subset(5000)``, read
from Debian's ``dataset-fashion-mnist``; where it is not installed, 5000 Gaussian inputs
with random labels, which the output says). P = 199 210 parameters.

(1) Products to accuracy, float64: the reference top eigenvalue is ARPACK's (scipy
    ``eigsh``, ``which="LA"``, tol 1e-12) on the same Hessian-vector products. Lanczos:
    the top Ritz value after each step (``ritz_history``); power iteration: the Rayleigh
    quotient after each product. "Products to 1e-4" is the first count from which the
    relative error stays <= 1e-4. Then each method is timed (median of interleaved warm
    calls of ``lanczos(num_iters=m)`` and ``power_iteration(num_iters=k)``) at exactly
    that many products. Target: Lanczos needs >= 3x fewer products.

(2) A 20-step Lanczos with full reorthogonalization, float32, side by side: implicitbias
    (``lanczos(..., num_iters=20)``, one compiled program) against the same algorithm in
    PyTorch with Hessian-vector products by double backward
    (``autograd.grad(grad(L) . v, params)``), eager. Both start from the same vector and
    must agree on the top eigenvalue to 1e-3 relative. Target: implicitbias no slower.

Run: ``python benchmarks/bench_sharpness.py [--quick] [--repeats N] [--points S]``
(``--quick``: 3 repeats and at most 400 power-iteration products).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from _harness import environment, interleave, median, print_table, write_json
from jax.flatten_util import ravel_pytree

from implicitbias.diagnostics import lanczos, power_iteration, ritz_history
from implicitbias.problems.mlp import init_mlp, mse_loss, num_params

NAME = "sharpness"
SIZES = (784, 200, 200, 10)
N = 5000
ACCURACY = 1e-4
LANCZOS_STEPS = 20
LANCZOS_TARGET = 3.0


def load_data(n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The Fashion-MNIST subset, or Gaussian stand-ins when the package is missing."""
    from implicitbias.datasets import fashion_mnist

    try:
        X, labels = fashion_mnist.subset(n, seed=0)
        source = f"Fashion-MNIST, {n} training images (seed 0), centred"
    except fashion_mnist.DatasetMissingError:
        rs = np.random.RandomState(0)
        X, labels = rs.randn(n, 784) / np.sqrt(784), rs.randint(0, 10, n)
        source = f"Gaussian stand-in ({n} x 784): dataset-fashion-mnist is not installed"
    return X, np.eye(10)[labels], source


def make_problem(X, Y, dtype):
    params = init_mlp(jax.random.PRNGKey(0), SIZES, dtype=dtype)
    Xj, Yj = jnp.asarray(X, dtype), jnp.asarray(Y, dtype)

    def loss(p):
        return mse_loss(p, Xj, Yj, "tanh")

    return params, loss


# --------------------------------------------------------------------------- (1) accuracy


def power_history(loss, params, key, k: int) -> np.ndarray:
    """Rayleigh quotient after each of ``k`` power-iteration products (one compiled loop;
    the parameters are an argument, not a constant XLA would fold)."""
    flat, unravel = ravel_pytree(params)

    def run(params, v):
        def body(v, _):
            w = ravel_pytree(jax.jvp(jax.grad(loss), (params,), (unravel(v),))[1])[0]
            return w / jnp.linalg.norm(w), jnp.vdot(v, w)

        return jax.lax.scan(body, v / jnp.linalg.norm(v), None, length=k)[1]

    v0 = jax.random.normal(key, flat.shape, flat.dtype)
    return np.asarray(jax.jit(run)(params, v0))


def reference_top(loss, params) -> float:
    from scipy.sparse.linalg import LinearOperator, eigsh

    flat, unravel = ravel_pytree(params)
    mv = jax.jit(lambda q, v: ravel_pytree(jax.jvp(jax.grad(loss), (q,), (unravel(v),))[1])[0])
    p = flat.size
    op = LinearOperator(
        (p, p), dtype=np.float64, matvec=lambda v: np.asarray(mv(params, jnp.asarray(v.ravel())))
    )
    return float(eigsh(op, k=1, which="LA", tol=1e-12, return_eigenvectors=False)[0])


def products_to(history: np.ndarray, ref: float, tol: float) -> int | None:
    """First count (1-based) from which the relative error stays <= tol, or None."""
    bad = np.flatnonzero(~(np.abs(history - ref) / abs(ref) <= tol))
    if bad.size == 0:
        return 1
    return int(bad[-1] + 2) if bad[-1] + 1 < len(history) else None


def accuracy_part(X, Y, repeats: int, max_power: int) -> dict[str, Any]:
    jax.config.update("jax_enable_x64", True)
    params, loss = make_problem(X, Y, jnp.float64)
    key = jax.random.PRNGKey(1)
    t0 = time.perf_counter()
    ref = reference_top(loss, params)
    ref_s = time.perf_counter() - t0
    lz = ritz_history(loss, params, num_iters=80, key=key)
    pw = power_history(loss, params, key, max_power)
    m, k = products_to(lz, ref, ACCURACY), products_to(pw, ref, ACCURACY)
    out: dict[str, Any] = {
        "reference": ref,
        "reference_seconds": ref_s,
        "lanczos_products": m,
        "power_products": k,
        "lanczos_rel_err": (np.abs(lz - ref) / ref).tolist(),
        "power_rel_err_every_10": (np.abs(pw - ref) / ref)[::10].tolist(),
        "power_max_products": max_power,
    }
    if m is None:
        return out
    fns = {
        "lanczos": lambda: lanczos(
            loss, params, num_iters=m, key=key
        ).eigenvalues.block_until_ready()
    }
    if k is not None:
        fns["power"] = lambda: power_iteration(
            loss, params, num_iters=k, key=key
        ).eigenvalues.block_until_ready()
    times = interleave(fns, repeats=repeats)
    out["seconds"] = {name: median(t) for name, t in times.items()}
    out["raw_seconds"] = times
    out["lanczos_value"] = float(lanczos(loss, params, num_iters=m, key=key).eigenvalues[0])
    return out


# --------------------------------------------------------------------------- (2) vs PyTorch


def torch_lanczos(model_params, loss_fn, v0, m: int):
    """Lanczos with full reorthogonalization; HVPs by double backward (eager PyTorch)."""
    import torch

    grads = torch.autograd.grad(loss_fn(model_params), model_params, create_graph=True)
    flat_g = torch.cat([g.reshape(-1) for g in grads])

    def hvp(v):
        hv = torch.autograd.grad(flat_g, model_params, grad_outputs=v, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv])

    p = v0.numel()
    V = torch.zeros(m, p, dtype=v0.dtype)
    alpha, beta = torch.zeros(m, dtype=v0.dtype), torch.zeros(m, dtype=v0.dtype)
    v, v_prev, b_prev = v0 / v0.norm(), torch.zeros_like(v0), 0.0
    for j in range(m):
        V[j] = v
        w = hvp(v)
        a = torch.dot(v, w)
        w = w - a * v - b_prev * v_prev
        w = w - V.T @ (V @ w)
        w = w - V.T @ (V @ w)
        b = w.norm()
        alpha[j], beta[j] = a, b
        v_prev, v, b_prev = v, w / b, b
    T = torch.diag(alpha) + torch.diag(beta[:-1], 1) + torch.diag(beta[:-1], -1)
    return torch.linalg.eigvalsh(T)[-1].item()


def torch_part(X, Y, repeats: int) -> dict[str, Any]:
    import torch

    torch.manual_seed(0)
    jax.config.update("jax_enable_x64", False)
    params, loss = make_problem(X, Y, jnp.float32)
    key = jax.random.PRNGKey(2)
    flat, _ = ravel_pytree(params)
    v0 = np.asarray(jax.random.normal(key, flat.shape, jnp.float32))
    tparams = [torch.tensor(np.asarray(a), requires_grad=True) for layer in params for a in layer]
    Xt, Yt = torch.tensor(np.asarray(X, np.float32)), torch.tensor(np.asarray(Y, np.float32))

    def tloss(ps):
        h = Xt
        for i in range(0, len(ps), 2):
            h = h @ ps[i] + ps[i + 1]
            if i < len(ps) - 2:
                h = torch.tanh(h)
        return 0.5 * ((h - Yt) ** 2).sum(dim=1).mean()

    v0t = torch.tensor(v0)
    v0j = jnp.asarray(v0)
    jax_val = float(lanczos(loss, params, num_iters=LANCZOS_STEPS, key=key, v0=v0j).eigenvalues[0])
    torch_val = torch_lanczos(tparams, tloss, v0t, LANCZOS_STEPS)
    times = interleave(
        {
            "implicitbias": lambda: lanczos(
                loss, params, num_iters=LANCZOS_STEPS, key=key, v0=v0j
            ).eigenvalues.block_until_ready(),
            "pytorch": lambda: torch_lanczos(tparams, tloss, v0t, LANCZOS_STEPS),
        },
        repeats=repeats,
    )
    jax.config.update("jax_enable_x64", True)
    return {
        "implicitbias_value": jax_val,
        "pytorch_value": torch_val,
        "rel_diff": abs(jax_val - torch_val) / abs(torch_val),
        "seconds": {k: median(v) for k, v in times.items()},
        "raw_seconds": times,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--points", type=int, default=N, help="examples (default 5000)")
    args = parser.parse_args(argv)
    os.environ.setdefault("IMPLICITBIAS_PROGRESS", "0")
    repeats = args.repeats or (3 if args.quick else 5)
    max_power = 400 if args.quick else 1500
    X, Y, source = load_data(args.points)
    P = num_params(init_mlp(jax.random.PRNGKey(0), SIZES))
    print(f"model {SIZES} tanh, square loss, {source}; P = {P}")

    acc = accuracy_part(X, Y, repeats, max_power)
    m, k = acc["lanczos_products"], acc["power_products"]
    ratio = (k / m) if (m and k) else float("nan")
    rows = [
        ["lanczos", m, acc.get("seconds", {}).get("lanczos", float("nan"))],
        [
            "power iteration",
            k if k is not None else f"> {max_power}",
            acc.get("seconds", {}).get("power", float("nan")),
        ],
    ]
    print(
        f"\n(1) products to {ACCURACY:g} relative accuracy of lambda_max = "
        f"{acc['reference']:.8g} (ARPACK), float64"
    )
    print_table(rows, header=["method", "HVPs", "seconds (warm, median)"])
    verdict = "met" if ratio >= LANCZOS_TARGET else "MISSED"
    print(
        f"power / lanczos products: {ratio:.3g}x (target >= {LANCZOS_TARGET:g}x: {verdict})"
        + ("" if k is not None else " (a lower bound: power iteration did not get there)")
    )

    tor = torch_part(X, Y, repeats)
    s = tor["seconds"]
    speed = s["pytorch"] / s["implicitbias"]
    print(
        f"\n(2) {LANCZOS_STEPS}-step Lanczos, float32: implicitbias {s['implicitbias']:.3g} s, "
        f"PyTorch {tor['torch']} double backward {s['pytorch']:.3g} s -> "
        f"{speed:.3g}x ({'no slower' if speed >= 1 else 'SLOWER'}); top eigenvalue "
        f"{tor['implicitbias_value']:.6g} vs {tor['pytorch_value']:.6g} "
        f"(rel diff {tor['rel_diff']:.2g})"
    )
    assert tor["rel_diff"] <= 1e-3, "the two Lanczos runs disagree"
    path = write_json(
        NAME,
        {
            "command": " ".join([sys.executable, *sys.argv]),
            "environment": environment(),
            "data": source,
            "params": P,
            "accuracy": acc,
            "power_over_lanczos": ratio,
            "torch": tor,
            "torch_over_implicitbias": speed,
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
