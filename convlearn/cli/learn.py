"""``convlearn learn``: train a kernel from input/target pairs."""

from __future__ import annotations

from pathlib import Path

import typer

from convlearn.cli.app import app
from convlearn.cli.options import DEVICE, MAX_PIXELS


def parse_size(text: str) -> tuple[int, int]:
    """``HxW`` -> (H, W), both >= 1."""
    from convlearn.errors import InputError

    parts = text.lower().split("x")
    try:
        h, w = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"Invalid kernel size {text!r}. Expected HxW, for example 3x3") from None
    if h < 1 or w < 1:
        raise InputError(f"Invalid kernel size {text!r}; both sides must be at least 1")
    return h, w


@app.command()
def learn(
    inputs: list[Path] = typer.Option([], "--input", "-i", help="Input image; repeat for several pairs."),
    targets: list[Path] = typer.Option([], "--target", "-t", help="Target image, one per --input, same order."),
    kernel_size: str = typer.Option("1x2", "--kernel-size", help="HxW of the kernel to learn (the notebook's 1x2)."),
    epochs: int = typer.Option(10, "--epochs", "-e", min=0, help="SGD steps (the notebook's 10)."),
    lr: float | None = typer.Option(
        None,
        "--lr",
        min=0.0,
        help="Step size. Default: 0.03 (the notebook's) on the built-in problem; "
        "on your pairs, a safe step derived from the data.",
    ),
    bias: bool = typer.Option(False, "--bias/--no-bias", help="Also learn an additive offset."),
    seed: int = typer.Option(0, "--seed", help="Seed for the initial kernel, so runs repeat."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the kernel as JSON (readable by detect --kernel)."
    ),
    device: str = DEVICE,
    max_pixels: int = MAX_PIXELS,
) -> None:
    """Learn a convolution kernel by SGD from input/target pairs.

    With no pair given, it learns the notebook's problem: the striped image and
    its edges under [[1, -1]].
    """
    import torch

    from convlearn.display import kernel_table, stdout
    from convlearn.errors import InputError
    from convlearn.files import write_text
    from convlearn.images import read_image
    from convlearn.kernels import Kernel, kernel_to_json
    from convlearn.learn import LearnConfig, Pair, train_sgd

    if len(inputs) != len(targets):
        raise InputError(f"Got {len(inputs)} --input and {len(targets)} --target; give one target per input")
    pairs = None
    if inputs:
        pairs = [
            Pair(
                torch.from_numpy(read_image(x, max_pixels=max_pixels)),
                torch.from_numpy(read_image(y, max_pixels=max_pixels)),
                str(x),
                str(y),
            )
            for x, y in zip(inputs, targets, strict=True)
        ]
    config = LearnConfig(parse_size(kernel_size), epochs, lr, bias, seed, device)
    result = train_sgd(pairs, config, on_epoch=lambda i, loss: stdout.print(f"epoch {i}, loss {loss}"))
    stdout.print(kernel_table(result.weight, "learned kernel", result.bias))
    if output is not None:
        kernel = Kernel(result.weight.double().numpy(), result.bias)
        meta = {
            "solver": "sgd",
            "kernel_size": list(config.kernel_size),
            "epochs": result.epochs_run,
            "lr": result.lr,
            "loss": result.losses[-1] if result.losses else None,
            "inputs": [str(p) for p in inputs],
            "targets": [str(p) for p in targets],
        }
        write_text(output, kernel_to_json(kernel, **meta))
        stdout.print(f"[dim]wrote {output}[/]")
