"""The Typer app and the one error boundary every command runs inside.

Nothing here imports torch: ``convlearn --help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version

import typer
from typer.core import TyperGroup

from convlearn.errors import ConvlearnError

_debug = {"on": os.environ.get("CONVLEARN_DEBUG", "") not in ("", "0")}


def _package_version() -> str:
    try:
        return version("convlearn")
    except PackageNotFoundError:  # running from a source tree that was not installed
        from convlearn import __version__

        return __version__


# Typer >= 0.20 vendors click; older releases use click itself. Find its
# ClickException either way, so usage errors pass through untouched.
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_PASS_THROUGH = (typer.Exit, typer.Abort, _ClickException)


def fail(message: str, code: int) -> typer.Exit:
    """Print one error line on stderr and build the Exit that carries ``code``."""
    from convlearn.display import stderr

    stderr.print(f"[bold red]Error:[/] {message}", markup=True, highlight=False)
    return typer.Exit(code)


class BoundaryGroup(TyperGroup):
    """Runs every command inside the error boundary.

    - convlearn's own errors: one line on stderr, their exit code (2 input, 1 run time);
    - Ctrl-C: exit 130 (commands that must save work catch it themselves first);
    - anything else: one line naming it as an internal error, exit 1.

    ``--debug`` (or ``CONVLEARN_DEBUG=1``) lets the traceback through instead.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except ConvlearnError as e:
            if _debug["on"]:
                raise
            raise fail(str(e), e.exit_code) from None
        except KeyboardInterrupt:
            if _debug["on"]:
                raise
            raise fail("interrupted", 130) from None
        except MemoryError:
            if _debug["on"]:
                raise
            raise fail("out of memory; use a smaller image or batch, or another device", 1) from None
        except Exception as e:  # the boundary: no traceback unless --debug
            if _debug["on"]:
                raise
            raise fail(f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback)", 1) from None


app = typer.Typer(
    cls=BoundaryGroup,
    name="convlearn",
    help="Edge detection and kernel learning on images, by 2-D cross-correlation in PyTorch.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"convlearn {_package_version()}")
        raise typer.Exit()


@app.callback()
def main_options(
    version_: bool = typer.Option(
        False, "--version", "-V", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
) -> None:
    """Edge detection and kernel learning on images, by 2-D cross-correlation in PyTorch."""
    _debug["on"] = _debug["on"] or debug


def main() -> None:
    """Console-script entry point."""
    # Register the commands (each module adds itself to ``app``).
    from convlearn.cli import commands  # noqa: F401

    app(prog_name="convlearn")
    sys.exit(0)
