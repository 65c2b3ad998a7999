"""Learning a convolution kernel from input/target pairs: the solvers and the fit report.

Every solver minimises the same loss, the notebook's summed squared error over
the pixels used (see :mod:`convlearn.learn.pairs` for which pixels count)::

    L(K, c) = sum over pairs and pixels of (corr2d(X, K) + c - Y) ** 2

where c is the bias (only with ``bias=True``). Writing k for K's values (and c)
as one vector of length ``p = h * w (+ 1)``, the loss is quadratic::

    L(k) = k^T G k - 2 k^T b + y^T y,    G = A^T A,  b = A^T y

with A's rows the input patches (plus a 1). G is the Gram matrix of the
patches, and the loss's Hessian is 2 G. So the problem has one exact answer
(``lstsq`` solves ``G k = b``), its curvature gives SGD a safe step, and any
kernel's loss and gradient are known exactly from G and b. The report uses them.

Solvers:
    - ``sgd``: the notebook's full-batch gradient descent on a ``nn.Conv2d``
      weight. With no pair given it is the notebook's run, step 0.03, 10 epochs.
    - ``lstsq``: the exact least-squares kernel, from G and b in float64.
    - ``adam``: Adam with step 0.1.
    - ``lbfgs``: L-BFGS with a strong-Wolfe line search and tight stopping rules.

The default problem is the notebook's: X is the striped 6x8 image, Y is
``corr2d(X, [[1, -1]])``, and a ``(1, 2)`` kernel is trained by SGD with
learning rate 0.03 on the summed squared error.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import torch
from torch import nn

from convlearn.corr import corr2d
from convlearn.errors import ConvlearnError, InputError, Interrupted, TrainingError, invalid_choice
from convlearn.learn.pairs import Pair, align_pair
from convlearn.runtime import distributed

__all__ = [
    "CONVERGED_RTOL",
    "DEFAULT_EPOCHS",
    "DTYPES",
    "R2_WARNING",
    "SOLVERS",
    "Conv2D",
    "FitReport",
    "LearnConfig",
    "LearnResult",
    "NormalEquations",
    "TrainingDiverged",
    "TrainingInterrupted",
    "fit_notes",
    "fit_report",
    "learn_kernel",
    "max_abs_difference",
    "normal_equations",
    "notebook_pair",
    "safe_step",
    "train_sgd",
]

#: The solvers ``learn --solver`` offers; sgd, the notebook's, first.
SOLVERS = ("sgd", "lstsq", "adam", "lbfgs")
#: Training dtypes for the iterative solvers (lstsq always works in float64).
DTYPES = ("float32", "float64")
#: Epochs when none are given: 10 is the notebook's range(10); Adam needs
#: about 2000 on a photograph-like pair (condition ~6,000; it stops early once
#: converged); L-BFGS stops itself long before 100.
DEFAULT_EPOCHS = {"sgd": 10, "adam": 2000, "lbfgs": 100}
#: The notebook's learning rate, used on its own problem.
NOTEBOOK_LR = 0.03
#: Adam's step, constant: 0.1 reached 7.6e-4 of the exact kernel after 2000
#: epochs in the core issue's photograph test, and 1.3e-3 here on smooth noise
#: of the same conditioning; a cosine decay to 0 ended 40x further off.
ADAM_LR = 0.1
#: L-BFGS's step: 1, the natural quasi-Newton step the line search starts from.
LBFGS_LR = 1.0
#: L-BFGS memory: 100 (step, gradient change) pairs, torch's default; with 10 it
#: took about twice the iterations on a 3x3 kernel, and the vectors are tiny.
LBFGS_HISTORY = 100
#: L-BFGS stops once the relative gradient is below this (far tighter than
#: torch's own tolerances, which stop at the default 1e-7 absolute gradient).
LBFGS_RTOL = 1e-10
#: ... or when the loss has not reached a new low for this many iterations:
#: the line search can no longer improve on the training dtype's rounding.
LBFGS_PATIENCE = 5
#: "Converged" means the loss's gradient is at most this fraction of its size
#: at k = 0: ``||G k - b|| / ||b|| <= 1e-6``. SGD and Adam stop early there.
CONVERGED_RTOL = 1e-6
#: SGD stops as diverged when the loss grows to this many times its first value.
DIVERGE_FACTOR = 100.0
#: Below this R² the target is not well explained by a linear filter of the input.
R2_WARNING = 0.99
#: Pixels per tile when accumulating the normal equations on the CPU: 10 float64
#: columns of 32768 rows (2.6 MB) stay in cache; larger tiles measured slower
#: (benchmarks/bench_learn.py). On CUDA, tiles are larger to amortise launches.
TILE_PIXELS = {"cpu": 32_768, "cuda": 4_194_304}


class Conv2D(nn.Module):
    """The notebook's layer: ``corr2d(x, weight) + bias``.

    The weight starts ~ U(0, 1) and the bias at 0, as in the notebook.

    Args:
        kernel_size: ``(h, w)``.

    Shape:
        - Input: :math:`(H, W)` or :math:`(B, H, W)`
        - Output: :math:`(..., H - h + 1, W - w + 1)`

    >>> layer = Conv2D((1, 2)); layer(torch.ones(6, 8)).shape
    torch.Size([6, 7])
    """

    def __init__(self, kernel_size: tuple[int, int]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return corr2d(x, self.weight) + self.bias


def notebook_pair() -> Pair:
    """The notebook's problem: the striped 6x8 image and its edges under [[1, -1]]."""
    from convlearn.synth import make_image

    X = make_image()  # (6, 8)
    Y = corr2d(X, torch.tensor([[1.0, -1.0]]))  # (6, 7)
    return Pair(X, Y, "synth:stripes", "corr2d(synth, edge)")


class NormalEquations(NamedTuple):
    """The least-squares problem in closed form, accumulated in float64.

    ``gram`` is G = A^T A, :math:`(p, p)`; ``rhs`` is b = A^T y, :math:`(p,)`;
    ``yy`` and ``ysum`` are the sum of the target's squares and values over the
    pixels used, ``count`` their number, ``excluded`` the clipped pixels left
    out, ``pairs`` the number of pairs. Kernels are vectors ``k`` of length p:
    the kernel's values row by row, then the bias.
    """

    gram: torch.Tensor
    rhs: torch.Tensor
    yy: float
    ysum: float
    count: int
    excluded: int = 0
    pairs: int = 0

    def loss(self, k: torch.Tensor) -> float:
        """The summed squared error of kernel vector k, ``k^T G k - 2 k^T b + y^T y``.

        Exact to about 1e-16 of ``y^T y`` (float64 rounding); never negative.
        """
        k = k.detach().to("cpu", torch.float64).reshape(-1)
        return max(0.0, float(k @ self.gram @ k - 2 * (k @ self.rhs)) + self.yy)

    def relative_gradient(self, k: torch.Tensor) -> float:
        """``||G k - b|| / ||b||``: the loss's gradient at k relative to its size at k = 0."""
        k = k.detach().to("cpu", torch.float64).reshape(-1)
        top = float(torch.linalg.vector_norm(self.gram @ k - self.rhs))
        bottom = float(torch.linalg.vector_norm(self.rhs))
        if bottom == 0.0:
            return 0.0 if top == 0.0 else math.inf
        return top / bottom

    def eigenvalues(self) -> torch.Tensor:
        """G's eigenvalues, ascending: the curvatures of the loss, halved."""
        return torch.linalg.eigvalsh(self.gram)

    def condition(self) -> float:
        """G's condition number (inf when G is singular): how hard the problem is for gradient descent."""
        ev = self.eigenvalues()
        top, low = float(ev[-1]), float(ev[0])
        if top <= 0 or low <= top * _SINGULAR:
            return math.inf
        return top / low

    def solve(self) -> torch.Tensor:
        """The least-squares kernel vector: ``G^-1 b``, or G's pseudo-inverse applied to b when G is singular.

        A singular G means the inputs do not pin the kernel down (a flat image,
        or stripes that never vary along one axis); the smallest kernel that
        fits as well as any is returned.
        """
        ev, vectors = torch.linalg.eigh(self.gram)
        top = float(ev[-1])
        if not math.isfinite(top) or top <= 0:
            raise InputError("The inputs are constant zero, so no kernel can be learned from them")
        if float(ev[0]) > top * _SINGULAR:
            return torch.linalg.solve(self.gram, self.rhs)
        keep = ev > top * _SINGULAR
        coeffs = (vectors.T @ self.rhs)[keep] / ev[keep]
        return vectors[:, keep] @ coeffs


#: Eigenvalues below this fraction of the largest count as zero (float64
#: rounding of G is about 1e-16 of its largest eigenvalue, times p).
_SINGULAR = 1e-13


def normal_equations(
    pairs: Iterable[Pair],
    kernel_size: tuple[int, int],
    bias: bool = False,
    *,
    device: str | torch.device = "cpu",
    tile_pixels: int | None = None,
    workers: int | None = None,
) -> NormalEquations:
    """Accumulate ``G = A^T A``, ``b = A^T y`` and ``y^T y`` in float64, one pair at a time.

    A's rows are the input patches (plus a 1 for the bias), so the least-squares
    kernel solves ``G k = b`` and the summed squared error is
    ``k^T G k - 2 k^T b + y^T y``. Memory stays bounded by one pair plus one
    tile of A per worker: the image is cut into row tiles of about
    ``tile_pixels`` output pixels, each tile's columns (the h * w shifted
    windows) are copied into a float64 buffer and ``G += C C^T`` is one BLAS
    call. float32 inputs multiply exactly in float64, so only the sums round
    (at 1e-16).

    On the CPU the tiles are shared among ``workers`` threads, each running
    torch single-threaded (torch's thread count is set to 1 meanwhile, then
    restored): BLAS calls this small, split across OpenMP threads, ran 10x
    slower than one thread on the loaded 2-core sandbox, while one thread per
    core stays as fast as the cores are free (``benchmarks/bench_learn.py``).

    Args:
        pairs: the pairs; read once, in order, so a lazy sequence such as
            :class:`convlearn.learn.pairs.PairFiles` streams. Same-size targets are
            aligned (see :func:`align_target`); masked pixels are left out.
        kernel_size: ``(h, w)``.
        bias: add a column of ones for an additive offset.
        device: where to accumulate (float64 either way).
        tile_pixels: output pixels per tile; None picks :data:`TILE_PIXELS` for the device.
        workers: CPU threads; None uses torch's thread count (one per core).

    Returns:
        The :class:`NormalEquations`; ``gram`` :math:`(p, p)` and ``rhs``
        :math:`(p,)` on the CPU, with ``p = h * w (+ 1)``.

    >>> X = torch.arange(12.0).reshape(3, 4)
    >>> ne = normal_equations([Pair(X, corr2d(X, torch.tensor([[2.0, -1.0]])))], (1, 2))
    >>> [round(v, 9) for v in ne.solve().tolist()]
    [2.0, -1.0]
    """
    h, w = kernel_size
    p = h * w + int(bias)
    dev = torch.device(device)
    tile = tile_pixels or TILE_PIXELS.get(dev.type, TILE_PIXELS["cuda"])
    threads = 1 if dev.type != "cpu" else max(1, workers or torch.get_num_threads())
    totals = [torch.zeros(p, p, dtype=torch.float64), torch.zeros(p, dtype=torch.float64), 0.0, 0.0]
    count = excluded = n_pairs = 0
    for raw in pairs:
        pair = align_pair(raw, kernel_size)
        X = pair.input.detach().to(dev)  # (H, W), any float dtype: copied into float64 below
        Y = pair.target.detach().to(dev)  # (Ho, Wo)
        M = None if pair.mask is None else pair.mask.detach().to(dev)  # (Ho, Wo) bool
        Ho, Wo = Y.shape
        used = Ho * Wo if M is None else int(M.sum())
        count += used
        excluded += Ho * Wo - used
        n_pairs += 1
        rows = max(1, min(Ho, tile // Wo))
        starts = list(range(0, Ho, rows))
        n = max(1, min(threads, len(starts) // _TILES_PER_WORKER))
        chunks = [starts[i * len(starts) // n : (i + 1) * len(starts) // n] for i in range(n)]

        def accumulate(chunk: list[int], X=X, Y=Y, M=M, rows=rows) -> list:
            return _accumulate(X, Y, M, chunk, rows, kernel_size, bias)

        if dev.type != "cpu":
            parts = [accumulate(chunks[0])]
        else:
            with _one_torch_thread():
                if n == 1:
                    parts = [accumulate(chunks[0])]
                else:
                    with ThreadPoolExecutor(n) as pool:
                        parts = list(pool.map(accumulate, chunks))
        for part in parts:  # in chunk order, so the sums do not depend on thread timing
            for i in range(4):
                totals[i] = totals[i] + (part[i].cpu() if i < 2 else part[i])
    G, b, yy, ysum = totals
    return NormalEquations(G, b, float(yy), float(ysum), count, excluded, n_pairs)


#: Fewest row tiles worth a thread of their own.
_TILES_PER_WORKER = 8


@contextlib.contextmanager
def _one_torch_thread():
    """Run torch single-threaded inside the block (restoring the thread count after)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _accumulate(
    X: torch.Tensor,
    Y: torch.Tensor,
    M: torch.Tensor | None,
    starts: list[int],
    rows: int,
    kernel_size: tuple[int, int],
    bias: bool,
) -> list:
    """G, b, y^T y and sum(y) over the row tiles beginning at ``starts``: one worker's share."""
    h, w = kernel_size
    p = h * w + int(bias)
    Ho, Wo = Y.shape
    f64 = dict(dtype=torch.float64, device=X.device)
    G = torch.zeros(p, p, **f64)
    b = torch.zeros(p, **f64)
    yy = torch.zeros((), **f64)
    ysum = torch.zeros((), **f64)
    C = torch.empty(p, rows * Wo, **f64)  # (p, tile): one column of A^T per output pixel
    ybuf = torch.empty(rows * Wo, **f64)
    mbuf = None if M is None else torch.empty(rows, Wo, **f64)
    for r0 in starts:
        R = min(rows, Ho - r0)
        Ct = C[:, : R * Wo]
        Cv = Ct.view(p, R, Wo)
        yt = ybuf[: R * Wo]
        yt.view(R, Wo).copy_(Y[r0 : r0 + R])
        if M is None:
            for a in range(h):
                for c in range(w):
                    Cv[a * w + c].copy_(X[r0 + a : r0 + a + R, c : c + Wo])  # the (a, c) window
            if bias:
                Cv[p - 1].fill_(1.0)
        else:
            mt = mbuf[:R]
            mt.copy_(M[r0 : r0 + R])  # 0/1: zeroing a pixel's row of A drops it from the sums
            for a in range(h):
                for c in range(w):
                    torch.mul(X[r0 + a : r0 + a + R, c : c + Wo], mt, out=Cv[a * w + c])
            if bias:
                Cv[p - 1].copy_(mt)
            yt.mul_(mt.view(-1))
        G.addmm_(Ct, Ct.T)  # (p, p)
        b.addmv_(Ct, yt)  # (p,)
        yy += yt @ yt
        ysum += yt.sum()
    return [G, b, float(yy), float(ysum)]


def safe_step(G: torch.Tensor) -> float:
    """The largest safe fixed SGD step for the summed squared error.

    The loss is quadratic with Hessian ``2 G`` (G the patch Gram matrix), so
    gradient descent converges for steps below ``2 / lambda_max(2 G)``. We take
    ``1 / lambda_max(2 G)``, which converges monotonically and fastest along the
    stiffest direction.

    >>> safe_step(torch.eye(2, dtype=torch.float64) * 4)
    0.125
    """
    top = float(torch.linalg.eigvalsh(G.to(torch.float64)).max())
    if not math.isfinite(top) or top <= 0:
        raise InputError("The inputs are constant zero, so no kernel can be learned from them")
    return 1.0 / (2.0 * top)


@dataclass(frozen=True)
class LearnConfig:
    """Settings for :func:`learn_kernel`. Defaults are the notebook's."""

    kernel_size: tuple[int, int] = (1, 2)  # (1, 2): the notebook's nn.Conv2d kernel_size
    epochs: int | None = None  # None: DEFAULT_EPOCHS[solver]; 10, the notebook's range(10), for sgd
    lr: float | None = None  # None: 0.03 (the notebook's) on its own problem, else safe_step() for sgd
    bias: bool = False  # False: the notebook's bias=False
    seed: int = 0  # fixed, so runs repeat
    device: str = "cpu"
    solver: str = "sgd"  # sgd: the notebook's method
    dtype: str = "float32"  # float32: nn.Conv2d's, the notebook's; lstsq always uses float64

    def epochs_for_solver(self) -> int:
        """The epoch (iteration) budget: ``epochs``, or the solver's default."""
        return self.epochs if self.epochs is not None else DEFAULT_EPOCHS.get(self.solver, 0)


@dataclass
class FitReport:
    """How well a kernel explains the targets, computed exactly from the normal equations.

    Attributes:
        loss: the summed squared error over the pixels used (the notebook's loss).
        rms: the root-mean-square residual per pixel, ``sqrt(loss / pixels)``.
        r2: ``1 - loss / sum((y - mean y)^2)``; None for a constant target.
        r2_best: the R² of the exact least-squares kernel: how well any linear
            filter of this size explains the target.
        pixels: target pixels used; excluded: clipped pixels left out; pairs: pairs used.
        relative_gradient: ``||G k - b|| / ||b||``, 0 at the exact least-squares kernel.
        converged: ``relative_gradient <= CONVERGED_RTOL``.
        condition: G's condition number (inf when singular): gradient descent
            needs about this many steps to converge.
        gap: the largest absolute difference from the exact least-squares kernel
            (weights and bias); None when G is singular and that kernel is not unique.
    """

    loss: float
    rms: float
    r2: float | None
    r2_best: float | None
    pixels: int
    excluded: int
    pairs: int
    relative_gradient: float
    converged: bool
    condition: float
    gap: float | None

    def to_dict(self) -> dict:
        """JSON-ready values (inf becomes None)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in self.__dict__.items()}


def fit_report(ne: NormalEquations, k: torch.Tensor, exact: torch.Tensor | None = None) -> FitReport:
    """Measure a kernel vector k against the normal equations.

    Args:
        ne: from :func:`normal_equations`.
        k: the kernel's values row by row, then the bias when fitted, :math:`(p,)`.
        exact: the least-squares kernel vector, if already solved.

    Returns:
        The :class:`FitReport`.

    >>> X = torch.arange(12.0).reshape(3, 4); ne = normal_equations([Pair(X, 2 * X)], (1, 1))
    >>> r = fit_report(ne, torch.tensor([2.0])); (r.loss, r.r2, r.converged)
    (0.0, 1.0, True)
    """
    k = k.detach().to("cpu", torch.float64).reshape(-1)
    exact = ne.solve() if exact is None else exact.detach().to("cpu", torch.float64).reshape(-1)
    n = max(ne.count, 1)
    sst = ne.yy - ne.ysum * ne.ysum / n
    constant = sst <= 1e-12 * max(ne.yy, 1e-300)
    loss = ne.loss(k)
    condition = ne.condition()
    rel = ne.relative_gradient(k)
    return FitReport(
        loss=loss,
        rms=math.sqrt(loss / n),
        r2=None if constant else 1.0 - loss / sst,
        r2_best=None if constant else 1.0 - ne.loss(exact) / sst,
        pixels=ne.count,
        excluded=ne.excluded,
        pairs=ne.pairs,
        relative_gradient=rel,
        converged=rel <= CONVERGED_RTOL,
        condition=condition,
        gap=float((k - exact).abs().max()) if math.isfinite(condition) else None,
    )


@dataclass
class LearnResult:
    """What a solver produced.

    ``weight`` is on the CPU: float64 from lstsq, the training dtype (float32 by
    default) from the others. ``losses`` holds each epoch's loss, computed
    before that epoch's step, as the notebook prints them. ``stopped`` says why
    the run ended: ``solved`` (lstsq), ``epochs`` (the budget ran out),
    ``converged`` (relative gradient under the tolerance), ``stalled`` (L-BFGS
    could improve no further), ``diverged`` or ``interrupted``.
    """

    weight: torch.Tensor  # (h, w)
    bias: float | None
    losses: list[float] = field(default_factory=list)
    lr: float | None = 0.0  # the step used; None for lstsq
    epochs_run: int = 0
    solver: str = "sgd"
    stopped: str = "epochs"
    report: FitReport | None = None
    safe_lr: float | None = None  # the safe SGD step for this data, 1 / lambda_max(2 G)
    inputs: list[str] = field(default_factory=list)  # the pairs' names, in order
    targets: list[str] = field(default_factory=list)

    def kernel(self, name: str = "learned"):
        """The result as a :class:`convlearn.kernels.Kernel` (float64)."""
        from convlearn.kernels import Kernel

        return Kernel(self.weight.detach().to(torch.float64).numpy().copy(), self.bias, name)

    def vector(self) -> torch.Tensor:
        """The kernel's values row by row, then the bias when there is one, as float64, :math:`(p,)`."""
        return _pack(self.weight, self.bias)

    def record(self) -> dict:
        """What ``learn --output`` stores beside the kernel, and ``--json`` prints: JSON-ready values.

        Keys: solver, kernel_size, bias_fitted, epochs, step (None for lstsq),
        safe_step, stopped, the :class:`FitReport` fields (loss, rms, r2, ...),
        inputs and targets.
        """
        report = self.report.to_dict() if self.report is not None else {}
        return {
            "solver": self.solver,
            "kernel_size": list(self.weight.shape),
            "bias_fitted": self.bias is not None,
            "epochs": self.epochs_run,
            "step": self.lr,
            "safe_step": self.safe_lr,
            "stopped": self.stopped,
            **report,
            "inputs": list(self.inputs),
            "targets": list(self.targets),
        }


class TrainingDiverged(TrainingError):
    """The loss turned non-finite or grew many-fold; ``result`` holds the best kernel reached (exit code 1)."""

    def __init__(self, message: str, result: LearnResult) -> None:
        super().__init__(message)
        self.result = result


class TrainingInterrupted(Interrupted):
    """Ctrl-C during training; ``result`` holds the kernel reached so far (exit code 130)."""

    def __init__(self, message: str, result: LearnResult) -> None:
        super().__init__(message)
        self.result = result


def _pack(weight: torch.Tensor, bias: float | torch.Tensor | None) -> torch.Tensor:
    k = weight.detach().to("cpu", torch.float64).reshape(-1)
    if bias is None:
        return k
    return torch.cat([k, torch.as_tensor([float(bias)], dtype=torch.float64)])


def _layer_vector(layer: nn.Conv2d) -> torch.Tensor:
    return _pack(layer.weight[0, 0], None if layer.bias is None else layer.bias.detach()[0])


def _unpack(k: torch.Tensor, kernel_size: tuple[int, int], bias: bool, dtype: torch.dtype):
    h, w = kernel_size
    weight = k[: h * w].reshape(h, w).to(dtype).clone()
    return weight, (float(k[h * w]) if bias else None)


def _check_config(cfg: LearnConfig) -> None:
    if cfg.solver not in SOLVERS:
        raise invalid_choice("solver", cfg.solver, SOLVERS)
    if cfg.dtype not in DTYPES:
        raise invalid_choice("dtype", cfg.dtype, DTYPES)
    h, w = cfg.kernel_size
    if h < 1 or w < 1:
        raise InputError(f"Invalid kernel size {h}x{w}; both sides must be at least 1")
    if cfg.epochs is not None and cfg.epochs < 0:
        raise InputError(f"Invalid epochs {cfg.epochs}; it must be 0 or more")
    if cfg.lr is not None and not (math.isfinite(cfg.lr) and cfg.lr > 0):
        raise InputError(f"Invalid step {cfg.lr}; --lr must be a positive number")


def learn_kernel(
    pairs: Iterable[Pair] | None = None,
    config: LearnConfig | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
    on_start: Callable[[float], None] | None = None,
) -> LearnResult:
    """Learn one kernel from all pairs with the configured solver, and report the fit.

    Args:
        pairs: training pairs; None means the notebook's problem. lstsq reads
            them once, one at a time (a lazy :class:`convlearn.learn.pairs.PairFiles`
            streams); the iterative solvers hold them all in memory.
        config: solver and settings, see :class:`LearnConfig`.
        on_epoch: called with ``(epoch, loss)`` after each epoch of an
            iterative solver (the loss is the one computed before that epoch's step).
        on_start: called with the step (learning rate) an iterative solver is
            about to use, before its first epoch.

    Returns:
        The kernel, the losses, a :class:`FitReport` in ``report`` and the
        pairs' names in ``inputs`` and ``targets``.

    Raises:
        InputError: bad settings, no pairs, mismatched sizes, constant-zero inputs.
        TrainingDiverged: the loss turned non-finite or grew many-fold (SGD);
            its ``result`` holds the best kernel reached.
        TrainingInterrupted: Ctrl-C; its ``result`` holds the kernel reached so far.

    >>> result = learn_kernel(config=LearnConfig(solver="lstsq"))
    >>> result.weight.tolist(), result.report.r2
    ([[1.0, -1.0]], 1.0)
    """
    from convlearn.runtime.device import resolve_device

    cfg = config or LearnConfig()
    _check_config(cfg)
    device = resolve_device(cfg.device)
    own_problem = pairs is None
    where = distributed.current()
    source = _my_share([notebook_pair()] if own_problem else pairs, where)
    names: list[tuple[str, str]] = []
    p = cfg.kernel_size[0] * cfg.kernel_size[1] + int(cfg.bias)

    def noted(items: Iterable[Pair]) -> Iterable[Pair]:
        for pair in items:
            names.append((pair.input_name, pair.target_name))
            yield pair

    if cfg.solver == "lstsq":
        ne = _summed(lambda: normal_equations(noted(source), cfg.kernel_size, cfg.bias, device=device), p, where)
        names[:] = _merge_names(names, where)
        if ne.pairs == 0:
            raise InputError("No training pairs given")
        k = ne.solve()
        weight, bias = _unpack(k, cfg.kernel_size, cfg.bias, torch.float64)
        result = LearnResult(weight, bias, [], None, 0, "lstsq", "solved")
        result.report = fit_report(ne, k, k)
        result.safe_lr = safe_step(ne.gram)
    else:
        aligned: list[Pair] = []

        def read() -> NormalEquations:
            aligned.extend(align_pair(pair, cfg.kernel_size) for pair in noted(source))
            return normal_equations(aligned, cfg.kernel_size, cfg.bias, device=device)

        ne = _summed(read, p, where)
        names[:] = _merge_names(names, where)
        if ne.pairs == 0:
            raise InputError("No training pairs given")
        result = _train(aligned, cfg, ne, device, own_problem, on_epoch, on_start, names)
    result.inputs = [x for x, _ in names]
    result.targets = [y for _, y in names]
    return result


def _my_share(pairs: Iterable[Pair], where: distributed.Dist) -> Iterable[Pair]:
    """This rank's pairs, ``rank, rank + world, ...``, read lazily (all of them in one process)."""
    if not where.active:
        return pairs
    if isinstance(pairs, Sequence):  # a PairFiles reads only the files of this rank's pairs
        return (pairs[i] for i in range(where.rank, len(pairs), where.world_size))
    return itertools.islice(pairs, where.rank, None, where.world_size)


def _merge_names(names: list[tuple[str, str]], where: distributed.Dist) -> list[tuple[str, str]]:
    """Every rank's pair names, back in the order of the whole list (rank r held items r, r + world, ...)."""
    if not where.active:
        return names
    shares = distributed.all_gather_objects(names)
    merged = []
    for j in range(max(len(share) for share in shares)):
        merged.extend(share[j] for share in shares if j < len(share))
    return merged


def _summed(compute: Callable[[], NormalEquations], p: int, where: distributed.Dist) -> NormalEquations:
    """``compute()`` on this rank's pairs, then summed over all ranks in one float64 ``all_reduce``.

    Every rank first tells the others whether its reading failed, so no rank
    waits forever: the failing rank raises its own error, the others the same
    message with the same exit code, naming the rank.
    """
    if not where.active:
        return compute()
    failure: BaseException | None = None
    try:
        ne = compute()
    except (Exception, KeyboardInterrupt) as e:
        failure = e
    told = None if failure is None else (str(failure), getattr(failure, "exit_code", 1))
    failures = [(rank, t) for rank, t in enumerate(distributed.all_gather_objects(told)) if t is not None]
    if failure is not None:
        raise failure
    if failures:
        rank, (message, code) = failures[0]
        error = ConvlearnError(f"rank {rank}: {message}")
        error.exit_code = code
        raise error
    tail = [ne.yy, ne.ysum, ne.count, ne.excluded, ne.pairs]
    flat = torch.cat([ne.gram.reshape(-1), ne.rhs, torch.tensor(tail, dtype=torch.float64)])
    distributed.all_reduce_sum(flat)
    G = flat[: p * p].reshape(p, p).clone()
    b = flat[p * p : p * p + p].clone()
    yy, ysum, count, excluded, n_pairs = flat[p * p + p :].tolist()
    return NormalEquations(G, b, yy, ysum, int(count), int(excluded), int(n_pairs))


def train_sgd(
    pairs: Sequence[Pair] | None = None,
    config: LearnConfig | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> LearnResult:
    """Train a kernel by full-batch SGD on the summed squared error, as the notebook does.

    :func:`learn_kernel` with ``solver="sgd"``.

    Args:
        pairs: training pairs; None means the notebook's problem.
        config: settings, see :class:`LearnConfig`.
        on_epoch: called with ``(epoch, loss)`` after each step.

    Returns:
        The learned kernel, bias and the loss of every epoch.

    Raises:
        TrainingDiverged: the loss turned non-finite or grew many-fold.

    >>> result = train_sgd(config=LearnConfig(epochs=10))
    >>> [round(v, 1) for v in result.weight[0].tolist()]
    [1.0, -1.0]
    """
    return learn_kernel(pairs, replace(config or LearnConfig(), solver="sgd"), on_epoch)


def _train(
    pairs: list[Pair],
    cfg: LearnConfig,
    ne: NormalEquations,
    device: torch.device,
    own_problem: bool,
    on_epoch: Callable[[int, float], None] | None,
    on_start: Callable[[float], None] | None,
    names: list[tuple[str, str]],
) -> LearnResult:
    """The iterative solvers: sgd, adam and lbfgs on a ``nn.Conv2d`` weight."""
    solver = cfg.solver
    dtype = getattr(torch, cfg.dtype)
    epochs = cfg.epochs_for_solver()
    safe = safe_step(ne.gram)
    lr = cfg.lr
    if lr is None:
        lr = {"sgd": NOTEBOOK_LR if own_problem else safe, "adam": ADAM_LR, "lbfgs": LBFGS_LR}[solver]
    torch.manual_seed(cfg.seed)
    # The notebook's layer: nn.Conv2d(1, 1, kernel_size, bias=False), whose
    # Kaiming-uniform init we keep; the forward pass is corr2d on its weight.
    layer = nn.Conv2d(1, 1, kernel_size=cfg.kernel_size, bias=cfg.bias).to(device=device, dtype=dtype)
    params = list(layer.parameters())
    if solver == "sgd":
        trainer = _SGD(params, lr)
    elif solver == "adam":
        trainer = torch.optim.Adam(params, lr=lr)
    else:
        # One L-BFGS iteration per step() call, so that every iteration is an
        # "epoch" (reported, interruptible); our own rules decide when to stop,
        # so torch's tolerances are off.
        trainer = torch.optim.LBFGS(
            params,
            lr=lr,
            max_iter=1,
            max_eval=25,
            tolerance_grad=0.0,
            tolerance_change=0.0,
            history_size=LBFGS_HISTORY,
            line_search_fn="strong_wolfe",
        )
    inputs = [p.input.to(device, dtype) for p in pairs]  # (H, W) each
    targets = [p.target.to(device, dtype) for p in pairs]  # (Ho, Wo) each
    masks = [None if p.mask is None else p.mask.to(device, dtype) for p in pairs]
    # Under torchrun every rank holds the same start (same seed) and, below, the
    # same summed loss and gradient, so all take identical steps and stop together.
    shared = distributed.current().active

    def closure() -> torch.Tensor:
        total = torch.zeros((), device=device, dtype=dtype)
        trainer.zero_grad()
        for X, Y, M in zip(inputs, targets, masks, strict=True):
            Y_hat = corr2d(X, layer.weight[0, 0])  # (Ho, Wo)
            if layer.bias is not None:
                Y_hat = Y_hat + layer.bias
            squared = (Y_hat - Y) ** 2
            loss = (squared if M is None else squared * M).sum()
            loss.backward()
            total = total + loss.detach()
        if shared:  # the loss is a sum over pairs: summing every rank's part gives one process's
            grads = [q.grad if q.grad is not None else torch.zeros_like(q) for q in params]
            flat = torch.cat([total.reshape(1)] + [g.reshape(-1) for g in grads])
            distributed.all_reduce_sum(flat)
            total, offset = flat[0], 1
            for q in params:
                q.grad = flat[offset : offset + q.numel()].view_as(q).clone()
                offset += q.numel()
        return total

    result = LearnResult(layer.weight.detach()[0, 0].cpu().clone(), None, [], lr, 0, solver, "epochs", safe_lr=safe)
    result.inputs = [x for x, _ in names]
    result.targets = [y for _, y in names]
    best_loss, best_k, since_best = math.inf, _layer_vector(layer), 0
    tolerance = LBFGS_RTOL if solver == "lbfgs" else CONVERGED_RTOL

    def finish(k: torch.Tensor, stopped: str) -> LearnResult:
        result.weight, result.bias = _unpack(k, cfg.kernel_size, cfg.bias, dtype)
        result.stopped = stopped
        result.report = fit_report(ne, k)
        return result

    def best_of(*candidates: torch.Tensor) -> torch.Tensor:
        finite = [k for k in candidates if bool(torch.isfinite(k).all())]
        return min(finite, key=ne.loss) if finite else best_k

    if on_start is not None:
        on_start(lr)
    try:
        for epoch in range(epochs):
            before = _layer_vector(layer)  # (p,) the kernel this epoch's loss belongs to
            value = float(trainer.step(closure)) if solver == "lbfgs" else float(closure())
            first = result.losses[0] if result.losses else value
            grew = solver == "sgd" and first > 0 and value > DIVERGE_FACTOR * first
            if not math.isfinite(value) or grew:
                finish(best_of(best_k), "diverged")
                raise TrainingDiverged(_divergence_message(solver, epoch, value, first, lr, safe, best_loss), result)
            if solver != "lbfgs":
                trainer.step()
            result.losses.append(value)
            result.epochs_run = epoch + 1
            if value < best_loss:
                best_loss, best_k, since_best = value, before, 0
            else:
                since_best += 1
            result.weight = layer.weight.detach()[0, 0].cpu().clone()
            result.bias = None if layer.bias is None else float(layer.bias.detach())
            if on_epoch is not None:
                on_epoch(epoch, value)
            now = _layer_vector(layer)
            if ne.relative_gradient(now) <= tolerance:
                return finish(now, "converged")
            if solver == "lbfgs" and since_best >= LBFGS_PATIENCE:
                # No new low: the training dtype's rounding is reached.
                best = best_of(now, best_k)
                return finish(best, "converged" if ne.relative_gradient(best) <= CONVERGED_RTOL else "stalled")
    except KeyboardInterrupt:
        finish(best_of(_layer_vector(layer), best_k), "interrupted")
        raise TrainingInterrupted(
            f"Interrupted at epoch {result.epochs_run} of {epochs}; the kernel reached so far was kept", result
        ) from None
    now = _layer_vector(layer)
    return finish(best_of(now, best_k) if solver == "lbfgs" else now, "epochs")


class _SGD:
    """``torch.optim.SGD(params, lr)`` (no momentum, no decay): ``p -= lr * grad``, the same float ops.

    Written out because constructing any torch.optim optimizer first imports
    torch._dynamo, which took 3.5 s on the 2-core sandbox: most of a notebook run.
    """

    def __init__(self, params: list[torch.Tensor], lr: float) -> None:
        self.params, self.lr = params, lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for p in self.params:
            if p.grad is not None:
                p.add_(p.grad, alpha=-self.lr)


def _divergence_message(
    solver: str, epoch: int, value: float, first: float, lr: float, safe: float, best_loss: float
) -> str:
    what = f"became {value}" if not math.isfinite(value) else f"grew from {first:.4g} to {value:.4g}"
    kept = "The starting kernel was kept"
    if math.isfinite(best_loss):
        kept = f"The best kernel so far (loss {best_loss:.4g}) was kept"
    if solver == "sgd":
        return (
            f"The loss {what} by epoch {epoch}: step {lr:.4g} is too large for this data. A safe step is "
            f"{safe:.4g} (1 / the loss's largest curvature); rerun with --lr {safe:.3g} or without --lr. {kept}"
        )
    return f"The loss {what} at epoch {epoch} ({solver}, lr {lr:.4g}); try a smaller --lr. {kept}"


def fit_notes(result: LearnResult) -> list[str]:
    """Warnings about a result, one sentence each: a poor linear fit, a run that did not converge.

    >>> fit_notes(learn_kernel(config=LearnConfig(solver="lstsq")))
    []
    """
    notes = []
    report = result.report
    if report is None:
        return notes
    if report.r2_best is not None and report.r2_best < R2_WARNING:
        notes.append(
            f"R² is {report.r2_best:.4f} at best (< {R2_WARNING}): the target is not well explained by a linear "
            f"filter of the input (a non-linear filter, a different alignment, or a larger kernel?)"
        )
    if result.solver != "lstsq" and result.stopped in ("epochs", "stalled") and not report.converged:
        runs = f"{result.epochs_run} epoch{'s' if result.epochs_run != 1 else ''}"
        notes.append(
            f"{result.solver} did not converge in {runs}: the relative gradient is {report.relative_gradient:.2e} "
            f"(converged means <= {CONVERGED_RTOL:g}). --solver lstsq gives the exact kernel in one pass"
            + (" (--solver lbfgs iterates much faster than sgd)" if result.solver == "sgd" else "")
        )
    if not math.isfinite(report.condition):
        notes.append(
            "The inputs do not determine the kernel uniquely (their patches are linearly dependent): "
            + (
                "the smallest kernel that fits as well as any is given"
                if result.solver == "lstsq"
                else "other kernels fit equally well"
            )
        )
    return notes


def max_abs_difference(result: LearnResult, reference) -> float:
    """The largest absolute difference between a learned kernel and a reference :class:`~convlearn.kernels.Kernel`.

    The bias is compared too when either has one (a missing bias counts as 0).

    Raises:
        InputError: the shapes differ.

    >>> from convlearn.kernels import parse_kernel
    >>> max_abs_difference(learn_kernel(config=LearnConfig(solver="lstsq")), parse_kernel("edge"))
    0.0
    """
    ref = torch.as_tensor(reference.weight, dtype=torch.float64)
    weight = result.weight.detach().to(torch.float64)
    if tuple(ref.shape) != tuple(weight.shape):
        raise InputError(
            f"The reference kernel is {ref.shape[0]}x{ref.shape[1]} but the learned one is "
            f"{weight.shape[0]}x{weight.shape[1]}; give --reference a kernel of --kernel-size"
        )
    diff = float((weight - ref).abs().max())
    if result.bias is not None or reference.bias is not None:
        diff = max(diff, abs((result.bias or 0.0) - (reference.bias or 0.0)))
    return diff
