"""``convlearn kernels``: the built-in kernels, their matrices and conventions; or one kernel."""

from __future__ import annotations

import typer

CORRELATION_NOTE = (
    "Every kernel is applied by correlation, without flipping it: "
    "Y[i, j] = sum K[a, b] * X[i + a - ay, j + b - ax], as cv2.filter2D and scipy.ndimage.correlate do "
    "(the anchor (ay, ax) is (0, 0) in --mode valid, the centre (h//2, w//2) in --mode same). "
    "x runs to the right and y down. Signs follow OpenCV, or scikit-image where OpenCV has no such kernel."
)


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.4g}"


def _matrix(weight) -> str:
    """The kernel as aligned rows of numbers, signs coloured as in the kernel tables."""
    from convlearn.cli.render import signed

    cells = [[_number(v) for v in row] for row in weight.tolist()]
    width = max(len(c) for row in cells for c in row)
    return "\n".join(
        " ".join(signed(text.rjust(width), v) for text, v in zip(row, values, strict=True))
        for row, values in zip(cells, weight.tolist(), strict=True)
    )


def _magick(kernel) -> str:
    """The kernel as an ImageMagick string, quoted for a shell: ``'WxH+X+Y: v v v ...'``."""
    h, w = kernel.shape
    ay, ax = kernel.origin
    return f"'{w}x{h}+{ax}+{ay}: " + " ".join(_number(v) for v in kernel.weight.ravel()) + "'"


#: The narrowest the convention column may be in the table of built-ins; a narrower terminal gets one block each.
CONVENTION_MIN = 30


def _rows(entries) -> list[tuple[str, str, str, str]]:
    """Each built-in's name (with its usage), matrix, convention and --magnitude pair, as Rich markup."""
    from rich.markup import escape

    rows = []
    for entry in entries:
        info, weight = entry.info, entry.weight
        usage = escape(info.usage).replace(" or ", "\nor ")
        label = info.name if not info.usage else f"{usage}\n[dim]shown: {info.name}:{weight.shape[0]}[/]"
        if entry.gradient is None:
            pair = "[dim]gx itself\ngy its transpose[/]"
        else:
            pair = "gx {}\ngy {}".format(*map(escape, entry.gradient))
        rows.append((label, _matrix(weight), escape(info.convention), pair))
    return rows


def _show_builtins(entries) -> None:
    """The built-ins as a table where the terminal is wide enough for it, else one block each: no name is cut."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from convlearn.cli.render import stdout

    rows = _rows(entries)

    def widest(k: int) -> int:
        return max(line.cell_len for r in rows for line in Text.from_markup(r[k]).split("\n"))

    if sum(widest(k) + 3 for k in (0, 1, 3)) + CONVENTION_MIN + 4 > stdout.width:
        stdout.print("[bold]Built-in kernels[/]\n")
        for label, matrix, convention, pair in rows:
            stdout.print(f"[bold]{label}[/]\n{matrix}", highlight=False)
            stdout.print(f"{convention}\n[dim]--magnitude:[/] {pair}\n", highlight=False, soft_wrap=False)
        stdout.print(escape(CORRELATION_NOTE), style="dim", highlight=False, soft_wrap=False)
        return
    table = Table(title="Built-in kernels", caption=escape(CORRELATION_NOTE), show_lines=True, header_style="bold")
    table.add_column("name", no_wrap=True)
    table.add_column("matrix (defaults)", no_wrap=True)
    table.add_column("convention", min_width=CONVENTION_MIN)
    table.add_column("pair (--magnitude)", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    stdout.print(table)


def _show_kernel(details) -> None:
    from rich.markup import escape

    from convlearn.cli.render import kernel_table, stdout

    K = details.kernel
    h, w = K.shape
    ay, ax = K.origin
    if K.channels is not None:
        _show_colour(K)
        return
    stdout.print(kernel_table(K.weight, f"{K.name} ({h}x{w})", K.bias))
    if details.convention is not None:
        stdout.print(f"[bold]convention:[/] {escape(details.convention)}", highlight=False)
    gx, gy = details.gradient
    stdout.print(f"[bold]--magnitude pairs it as:[/] gx = {escape(gx)}, gy = {escape(gy)}", highlight=False)
    stdout.print(f"[bold]anchor for --mode same:[/] row {ay}, column {ax}", highlight=False)
    stdout.print(
        "[bold]same numbers elsewhere:[/] "
        f"cv2.filter2D(img, cv2.CV_32F, K, anchor=({ax}, {ay}), borderType=cv2.BORDER_REFLECT_101) "
        "= detect --mode same --border reflect; "
        f"ImageMagick -morphology Correlate {_magick(K)} "
        "(Convolve would need the kernel rotated 180 degrees: "
        f"-morphology Convolve {_magick(details.convolution)})",
        highlight=False,
        markup=True,
    )
    stdout.print(CORRELATION_NOTE, style="dim", highlight=False, markup=False)


#: What each kind of colour kernel does, and which detect option applies it.
_COLOUR_USE = {
    "each": "one plane per channel (R->R, G->G, B->B); detect --channels each applies it",
    "full": "output channel o = sum over input channels i of corr2d(X_i, K[o, i]); detect applies it to RGB",
}


def _show_colour(K) -> None:
    """A colour kernel: one table per plane, what it does, its anchor."""
    from rich.markup import escape

    from convlearn.cli.render import kernel_tables, stdout

    ay, ax = K.origin
    for table in kernel_tables(K.weight, escape(K.name), K.bias):
        stdout.print(table)
    shape = "x".join(str(n) for n in K.weight.shape)
    stdout.print(f"[bold]colour kernel {shape}:[/] {_COLOUR_USE[K.channels]}", highlight=False)
    stdout.print(f"[bold]anchor for --mode same:[/] row {ay}, column {ax} (every plane)", highlight=False)
    stdout.print(
        "[bold]other tools:[/] convlearn export FILE --to opencv|scipy writes it plane by plane", highlight=False
    )


def kernels(
    spec: str | None = typer.Argument(
        None,
        help="A kernel to show: a built-in name (sobel-x, gaussian:5,1.2...), an ImageMagick string "
        "'3x3: 1,0,-1 2,0,-2 1,0,-1', an inline matrix '1,0,-1;2,0,-2;1,0,-1' or a .json/.npy file. "
        "Leave it out to list the built-ins.",
        show_default=False,
        metavar="SPEC",
    ),
    json_: bool = typer.Option(False, "--json", help="Print the kernel as JSON, as detect --kernel reads it."),
) -> None:
    """List the built-in kernels with their matrices and sign conventions, or show one.

    Kernels are correlation kernels (no flip), as in cv2.filter2D. ImageMagick's
    -morphology Convolve flips a kernel before use (its Correlate does not), so
    the same kernel string is applied rotated by 180 degrees there.

    \b
    Examples:
      convlearn kernels
      convlearn kernels sobel-x
      convlearn kernels 'gaussian:5,1.2' --json > g.json
    """
    from convlearn.kernels import KernelDetails, run_kernels

    shown = run_kernels(spec=spec, as_json=json_)
    if isinstance(shown, str):
        typer.echo(shown, nl=False)
    elif isinstance(shown, KernelDetails):
        _show_kernel(shown)
    else:
        _show_builtins(shown)
