"""``convlearn detect``: apply a kernel by corr2d and write the result."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from convlearn.cli.app import app
from convlearn.cli.options import DEVICE, KERNEL_HELP, MAX_PIXELS


def _default_output(image: Path, kernel_name: str) -> Path:
    tag = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(kernel_name).stem if "/" in kernel_name else kernel_name).strip("_")
    return Path(f"{image.stem}_{tag or 'kernel'}.png")


@app.command()
def detect(
    images: list[Path] = typer.Argument(..., help="Image file(s): PNG, JPEG, TIFF, BMP or .npy."),
    kernel: str = typer.Option("edge", "--kernel", "-k", help=KERNEL_HELP),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Output file (.png, .tif, .npy), or a directory for several images. "
        "Default: IMAGE-STEM_KERNEL.png in the current directory, unless --print is given.",
    ),
    mode: str = typer.Option(
        "valid", "--mode", help="valid (the notebook's shape, H-h+1 x W-w+1) or same (the input's size)."
    ),
    border: str = typer.Option(
        "zero", "--border", help="For --mode same: zero, reflect (OpenCV's REFLECT_101), replicate or circular."
    ),
    scale: str = typer.Option(
        "auto", "--scale", help="PNG mapping: auto, clip, signed (0 -> mid-grey), abs or minmax."
    ),
    print_: bool = typer.Option(False, "--print", help="Print the result tensor, as the notebook does."),
    device: str = DEVICE,
    max_pixels: int = MAX_PIXELS,
) -> None:
    """Apply a kernel to images by 2-D cross-correlation (corr2d: no kernel flip)."""
    from convlearn.corr import BORDERS, MODES
    from convlearn.detect import DetectConfig, detect_file
    from convlearn.display import format_tensor, stdout
    from convlearn.errors import invalid_choice
    from convlearn.files import check_not_input
    from convlearn.images import SCALES
    from convlearn.kernels import parse_kernel

    if mode not in MODES:
        raise invalid_choice("mode", mode, MODES)
    if border not in BORDERS:
        raise invalid_choice("border", border, BORDERS)
    if scale not in SCALES:
        raise invalid_choice("scale", scale, SCALES)
    K = parse_kernel(kernel)
    config = DetectConfig(mode=mode, border=border, device=device, scale=scale, max_pixels=max_pixels)
    several = len(images) > 1 or (output is not None and output.is_dir())
    if several and output is not None:
        output.mkdir(parents=True, exist_ok=True)
    for image in images:
        if output is None:
            target = None if print_ else _default_output(image, K.name)
        else:
            target = output / f"{image.stem}.png" if several else output
        if target is not None:
            check_not_input(target, images)
        Y = detect_file(image, target, K, config)
        if print_:
            stdout.print(format_tensor(Y))
        if target is not None:
            stdout.print(f"[dim]{image} -> {target}  ({Y.shape[-2]}x{Y.shape[-1]})[/]")
