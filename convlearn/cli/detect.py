"""``convlearn detect``: filter images by correlation, gradient magnitude, thresholds or Canny."""

from __future__ import annotations

import sys

import typer

from convlearn.cli.options import DEVICE, KERNEL_HELP, MAX_PIXELS

#: --table shows at most this many rows and columns (the top-left corner of a larger result).
TABLE_SIDE = 16


def _table(values, title: str):
    """Rich tables of a result: one per channel, the top-left corner of a large one."""
    from convlearn.cli.render import kernel_table

    planes = [values] if values.ndim == 2 else [values[..., c] for c in range(values.shape[-1])]
    names = [""] if values.ndim == 2 else [" R", " G", " B"]
    h, w = values.shape[:2]
    cut = f" (top-left {min(h, TABLE_SIDE)}x{min(w, TABLE_SIDE)} of {h}x{w})" if max(h, w) > TABLE_SIDE else ""
    # + 0.0 turns -0.0 (e.g. 0 * -1 in a correlation) into 0, which the table would print as "-0".
    corners = [p[:TABLE_SIDE, :TABLE_SIDE] + 0.0 for p in planes]
    return [kernel_table(c, f"{title}{n}{cut}") for c, n in zip(corners, names, strict=True)]


def detect(
    images: list[str] = typer.Argument(
        ...,
        help="Images (PNG, JPEG, TIFF, BMP, .npy), directories of them, quoted globs such as 'shots/*.png', "
        "or - to read one image from stdin.",
        show_default=False,
    ),
    kernel: str = typer.Option("edge", "--kernel", "-k", help=KERNEL_HELP),
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Output file (.png, .tif, .npy), a directory (inputs keep their names, with the --format suffix), "
        "or - for stdout. Default: IMAGE-STEM_TAG.png in the current directory; stdout for stdin; "
        "none with --print or --table.",
    ),
    recursive: bool = typer.Option(
        False, "--recursive", "-r", help="Also read the subdirectories of directory inputs (and ** in globs)."
    ),
    mode: str = typer.Option(
        "valid", "--mode", help="valid (the notebook's shape, H-h+1 x W-w+1) or same (the input's size)."
    ),
    border: str = typer.Option(
        "zero", "--border", help="For --mode same: zero, reflect (OpenCV's REFLECT_101), replicate or circular."
    ),
    magnitude: bool = typer.Option(
        False,
        "--magnitude",
        "-m",
        help="Output sqrt(gx² + gy²): a built-in x/y pair (sobel-x with sobel-y, ...) or the kernel and its transpose.",
    ),
    angle: str | None = typer.Option(
        None,
        "--angle",
        help="Also write the gradient direction atan2(gy, gx), radians in (-pi, pi], y down, to this file "
        "(a directory for several inputs). Needs --magnitude or --canny.",
    ),
    threshold: str | None = typer.Option(
        None,
        "--threshold",
        "-t",
        help="Binary edge map: 1 where the result > T, else 0. T is a number, or otsu (one per image and channel).",
    ),
    canny: str | None = typer.Option(
        None,
        "--canny",
        help="Thin edges by Canny (Gaussian, Sobel, non-maximum suppression, hysteresis). LOW,HIGH bound the "
        "gradient magnitude in image units (images are 0..1; OpenCV's 100,200 on 8-bit images is 0.392,0.784). "
        "Ignores --kernel, --mode and --border.",
    ),
    sigma: float = typer.Option(
        1.0, "--sigma", min=0.0, help="Canny's Gaussian smoothing in pixels (scikit-image's 1.0; 0: none, as cv2)."
    ),
    channels: str = typer.Option(
        "luma",
        "--channels",
        help="luma (one grey plane, 0.299 R + 0.587 G + 0.114 B) or each (R, G and B filtered apart; RGB output).",
    ),
    scale: str = typer.Option(
        "auto", "--scale", help="PNG mapping: auto, clip, signed (0 -> mid-grey), abs or minmax."
    ),
    bit_depth: int = typer.Option(8, "--bit-depth", help="PNG bit depth: 8 or 16 (16: one plane)."),
    fmt: str = typer.Option("png", "--format", "-f", help="Output type for stdout and directories: png, tif or npy."),
    print_: bool = typer.Option(False, "--print", help="Print the result tensor, as the notebook does."),
    table: bool = typer.Option(
        False, "--table", help=f"Print the result as a Rich table (the top-left {TABLE_SIDE}x{TABLE_SIDE} at most)."
    ),
    json_: bool = typer.Option(
        False, "--json", help="Print one JSON line per file: shape, min, max, mean, output path, seconds."
    ),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Files of one size filtered together."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or status lines."),
    device: str = DEVICE,
    max_pixels: int = MAX_PIXELS,
) -> None:
    """Filter images by 2-D cross-correlation (corr2d: the kernel is NOT flipped).

    Y(i, j) = sum over a, b of K(a, b) * X(i + a, j + b), as the notebook,
    cv2.filter2D and scipy.ndimage.correlate compute it. A true convolution
    (scipy.ndimage.convolve, ImageMagick's -morphology Convolve) flips the
    kernel first, so an asymmetric kernel gives a mirrored result there.
    """
    import json
    import time
    from pathlib import Path

    from convlearn.cli.render import format_tensor, stderr, stdout
    from convlearn.errors import ConvlearnError, InputError
    from convlearn.images import STDIO, require_file
    from convlearn.images.batch import collect_inputs, plan_outputs
    from convlearn.kernels import parse_kernel

    # The commonest mistakes (a bad kernel, a missing file) are found before
    # torch is imported, so they fail in a fraction of a second.
    K = parse_kernel(kernel)
    sources = collect_inputs(images, recursive=recursive)
    if len(sources) == 1 and sources[0].path != STDIO:
        require_file(sources[0].path)  # one input: fail now (in a batch, each file fails on its own)

    from convlearn.detect import DetectConfig, check_config, default_tag, detect_files

    config = check_config(
        DetectConfig(
            mode=mode,
            border=border,
            device=device,
            scale=scale,
            bit_depth=bit_depth,
            max_pixels=max_pixels,
            channels=channels,
            magnitude=magnitude,
            angle=angle is not None,
            threshold=threshold,
            canny=canny,
            sigma=sigma,
            fmt=fmt,
            batch_size=batch_size,
        )
    )
    texts = print_ or table or json_
    if output is None and [s.path for s in sources] == [STDIO] and not texts:
        output = STDIO  # a pipe in, a pipe out
    if output == STDIO and texts:
        raise InputError("--output - sends the image to stdout; --print, --table and --json would mix text into it")
    if output == STDIO and sys.stdout.isatty():
        raise InputError("Refusing to write an image to the terminal. Redirect stdout (> out.png) or give --output")
    outputs = plan_outputs(sources, output, fmt=fmt, default_tag=None if print_ or table else default_tag(K, config))
    angles = plan_outputs(sources, angle, fmt=fmt, what="--angle") if angle is not None else None
    if angles is not None:
        clash = {o for o in outputs if o not in (None, STDIO)} & {a for a in angles if a not in (None, STDIO)}
        if clash:
            raise InputError(f"--angle and --output both name {sorted(clash)[0]!r}; give them different paths")

    several = len(sources) > 1
    status = stderr if output == STDIO or json_ else stdout  # keep stdout clean when it carries data
    total = len(sources)
    # Under torchrun each rank filters its own share of the files (every output
    # is written once, by the rank that reads its input); rank 0 tells the summary.
    from convlearn.runtime import distributed
    from convlearn.runtime.device import resolve_device

    where = distributed.setup(resolve_device(config.device))
    if where.active:
        if STDIO in [s.path for s in sources] or output == STDIO:
            raise InputError("Under torchrun, detect reads and writes files; - (stdin or stdout) is not supported")
        sources = distributed.shard(sources, where)
        outputs = distributed.shard(outputs, where)
        angles = None if angles is None else distributed.shard(angles, where)
    show_bar = several and not quiet and where.is_main and not (texts and sys.stdout.isatty() and stderr.is_terminal)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("[bold]detect"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=stderr,
        transient=True,
        disable=not show_bar,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    task = progress.add_task("", total=len(sources))  # this rank's share

    def on_result(result, values) -> None:
        progress.update(task, advance=1, description=result.source)
        if json_:
            typer.echo(json.dumps(result.to_json()))
        if values is not None and (print_ or table):
            if several:
                stdout.print(f"[bold]{result.source}[/]")
            if print_:
                planes = values.permute(2, 0, 1) if values.dim() == 3 else values  # colour: (3, H, W), as torch shows
                stdout.print(format_tensor(planes), markup=False)
            if table:
                for t in _table(values.numpy(), result.source):
                    stdout.print(t)
        if not several and not quiet and result.ok and result.output is not None and result.output != STDIO:
            h, w = result.shape[:2]
            extra = f", angle -> {result.angle_output}" if result.angle_output else ""
            name = "<stdin>" if result.source == STDIO else result.source
            status.print(f"[dim]{name} -> {result.output}  ({h}x{w}){extra}[/]", highlight=False)

    start = time.perf_counter()
    with progress:
        report = detect_files(
            sources,
            outputs,
            K,
            config,
            angle_outputs=angles,
            on_result=on_result,
            keep_values=print_ or table,
        )
    failed = [r.error for r in report.failed]
    written = [r.output for r in report.done if r.output not in (None, STDIO)]
    ok = len(report.done)
    if where.active:  # every rank's results, on every rank (so all of them exit alike)
        shares = distributed.all_gather_objects((failed, written, ok))
        failed = [e for share in shares for e in share[0]]
        written = [o for share in shares for o in share[1]]
        ok = sum(share[2] for share in shares)
    if where.is_main:
        for error in failed:
            stderr.print(f"[red]failed:[/] {error}", highlight=False, markup=True)
        if several and not quiet and written:
            dirs = sorted({str(Path(o).parent) for o in written})
            place = dirs[0] if len(dirs) == 1 else f"{len(dirs)} directories"
            took = time.perf_counter() - start
            status.print(f"[dim]wrote {len(written)} of {total} files to {place} in {took:.2f} s[/]")
    distributed.barrier()  # no rank exits (and has torchrun stop the others) before rank 0 has told
    if failed:
        if not where.is_main:
            raise typer.Exit(1)  # rank 0 names the failures; every rank exits 1
        raise ConvlearnError(f"{len(failed)} of {total} files failed (listed above); the other {ok} were done")
