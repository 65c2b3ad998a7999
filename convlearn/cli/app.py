"""The Typer app and the one error boundary every command runs inside.

Nothing here imports torch: ``convlearn --help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import signal
import sys
import traceback
import warnings

import typer
from typer.core import TyperGroup

from convlearn.cli.options import tidy_help
from convlearn.errors import ConvlearnError, is_out_of_memory

#: Exit codes, documented in the README's "Errors and exit codes" table. A run
#: stopped by a signal exits 128 + its number: 130 (SIGINT, Ctrl-C), 129
#: (SIGHUP), 143 (SIGTERM).
EXIT_RUNTIME, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

#: Where ``--debug`` is kept for the boundary, in the run's ``ctx.meta``.
_DEBUG = "convlearn.debug"
#: CONVLEARN_DEBUG values that mean "off" (any other non-empty value means on).
_DEBUG_OFF = ("", "0", "false", "no", "off")
#: Signals that stop a run as Ctrl-C does (outputs kept whole, temporary files
#: removed), and the line that names each.
_STOP_SIGNALS = {"SIGINT": "Interrupted (Ctrl-C)", "SIGTERM": "Terminated (SIGTERM)", "SIGHUP": "Hung up (SIGHUP)"}
#: The stop signals received so far, in order.
_received: list[int] = []


def _env_debug() -> bool:
    return os.environ.get("CONVLEARN_DEBUG", "").strip().lower() not in _DEBUG_OFF


def _on_stop_signal(signum: int, frame) -> None:
    """The first stop signal raises KeyboardInterrupt, as Ctrl-C does; a second one, while the
    run is saving its work, is ignored (no traceback from the middle of the clean-up); a third
    ends the process at once."""
    _received.append(signum)
    if len(_received) == 1:
        raise KeyboardInterrupt
    if len(_received) >= 3:
        os._exit(128 + _received[0])


def install_signal_handlers() -> None:
    """Handle SIGINT, SIGTERM and SIGHUP alike; a signal the process was started ignoring stays ignored (nohup)."""
    for name in _STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is None:  # SIGHUP: not on Windows
            continue
        try:
            if signal.getsignal(number) is not signal.SIG_IGN:
                signal.signal(number, _on_stop_signal)
        except (ValueError, OSError):  # not the main thread: leave them as they are
            return


def _ignore_stop_signals() -> None:
    for name in _STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, signal.SIG_IGN)


def _stop_code(code: int, message: str | None) -> tuple[int, str | None]:
    """An interrupted run's exit code and line, for the signal that stopped it: 128 + its number."""
    if code != EXIT_INTERRUPTED or not _received:
        return code, message
    number = _received[0]
    name = signal.Signals(number).name
    if message == _STOP_SIGNALS["SIGINT"]:
        message = _STOP_SIGNALS.get(name, message)
    elif name != "SIGINT" and message is not None:
        message = f"{message} ({name})"
    return 128 + number, message


def _package_version() -> str:
    # convlearn.__version__ is the one source (pyproject.toml reads it), and
    # unlike importlib.metadata it costs --version no start-up time.
    from convlearn import __version__

    return __version__


# Typer >= 0.20 vendors click; older releases use click itself. Find its
# ClickException either way, so usage errors pass through untouched (exit 2).
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_PASS_THROUGH = (typer.Exit, typer.Abort, _ClickException)

#: What each command can lower when it runs out of memory.
_OOM_ADVICE = {
    "detect": "use smaller or fewer images (crop or downscale them) or a smaller --kernel",
    "learn": "use smaller or fewer --input/--target pairs or a smaller --kernel-size",
    "synth": "use a smaller --height and --width",
}
#: What each command can lower when a number overflows float32 during the run.
_OVERFLOW_ADVICE = {"learn": "the step is too large for this data; try a smaller --lr or none"}
#: Options that bound memory, named in the advice when the command has them.
_OOM_KNOBS = ("--tile", "--tile-size", "--batch-size", "--chunk-size")


def _print_error(message: str) -> None:
    """One line on stderr: ``Error: message``. Newlines are folded so it stays one line."""
    from rich.markup import escape

    from convlearn.cli.render import stderr

    line = " ".join(message.split())
    try:
        stderr.print(f"[bold red]Error:[/] {escape(line)}", markup=True, highlight=False)
    except OSError:  # stderr itself is gone; the exit code still tells
        pass


def fail(message: str, code: int) -> typer.Exit:
    """Print one error line on stderr and build the Exit that carries ``code``."""
    _print_error(message)
    return typer.Exit(code)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _out_of_memory_message(e: BaseException, command: str | None, options: set[str]) -> str:
    on_gpu = "CUDA" in str(e) or "cuda" in type(e).__module__
    where = " on the GPU" if on_gpu else ""
    name = f" in `convlearn {command}`" if command else ""
    advice = [_OOM_ADVICE.get(command or "", "use a smaller input")]
    advice += [f"a smaller {knob}" for knob in _OOM_KNOBS if knob in options]
    if on_gpu and "--device" in options:
        advice.append("run with --device cpu")
    return f"Out of memory{where}{name}. To fit, " + ", or ".join(advice)


def describe(e: BaseException, command: str | None = None, options: set[str] | None = None) -> tuple[int, str | None]:
    """The exit code and the one-line message for an exception that reached the boundary.

    Args:
        e: the exception.
        command: the subcommand that ran, for advice on memory.
        options: that command's option names, for advice on memory.

    Returns:
        ``(exit code, message)``; the message is None for a broken stdout pipe
        (``convlearn ... | head``), which exits 1 quietly, as Rich and Typer do.

    >>> describe(KeyboardInterrupt())
    (130, 'Interrupted (Ctrl-C)')
    """
    options = options or set()
    if isinstance(e, ConvlearnError):
        return e.exit_code, str(e)
    if isinstance(e, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "Interrupted (Ctrl-C)"
    if isinstance(e, BrokenPipeError) or (isinstance(e, OSError) and e.errno == errno.EPIPE):
        return EXIT_RUNTIME, None
    if is_out_of_memory(e):
        return EXIT_RUNTIME, _out_of_memory_message(e, command, options)
    if isinstance(e, OSError) and e.filename is not None:
        return EXIT_RUNTIME, f"Cannot access {str(e.filename)!r}: {e.strerror or e}"
    if isinstance(e, RuntimeError) and "cannot be converted to type" in str(e) and "overflow" in str(e):
        advice = _OVERFLOW_ADVICE.get(command or "", "use smaller values")
        return EXIT_RUNTIME, f"A value overflowed float32 during the run ({e}): {advice}"
    return EXIT_RUNTIME, f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback)"


def _pass_flags_through(params) -> None:
    """Start-up: give the group's unset bool flags a pass-through instead of a pydantic validator.

    Typer (0.2x) builds a pydantic validator for every option it processes,
    even for ``--help`` or ``--install-completion`` left unset, only to pass
    their None through; importing pydantic for that cost ``convlearn CMD
    --help`` and shell completion about 0.1 s. Flags give None or a bool, which
    the pass-through keeps as they are. Other Typer versions: nothing to do.
    """
    try:
        from typer._coercion import PassThroughRuntimeParam
    except ImportError:
        return
    for p in params:
        desc = getattr(p, "type_descriptor", None)
        if desc is None or desc.annotation is not bool or getattr(p, "envvar", None):
            continue
        if getattr(p, "_runtime_param", "unknown") is None:
            p._runtime_param = PassThroughRuntimeParam(annotation=bool, parameter_info=desc.parameter_info)


class BoundaryGroup(TyperGroup):
    """Runs every command inside the error boundary.

    - convlearn's own errors: one line on stderr, their exit code (2 input, 1 run time, 130 interrupted);
    - Ctrl-C: one line, exit 130 (commands that must save work catch it first, then raise Interrupted);
    - out of memory: one line that says what to lower, exit 1;
    - a closed stdout pipe (``convlearn ... | head``): quiet, exit 1 (Rich does the same);
    - anything else: one line naming it as an internal error, exit 1.

    ``--debug`` (or ``CONVLEARN_DEBUG=1``) prints the traceback too, with the same exit code.
    """

    def parse_args(self, ctx, args):
        _pass_flags_through(self.get_params(ctx))
        tidy_help(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def get_command(self, ctx, cmd_name):
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            tidy_help([*command.params, command.get_help_option(ctx)])
        return command

    def invoke(self, ctx):
        try:
            with warnings.catch_warnings():
                # Pillow warns about damaged metadata in files it still reads; on a
                # terminal that is noise around the result or the one-line error.
                warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
                # numpy's RuntimeWarnings (overflow, invalid value) would print before the
                # error line that the checks of the result give; the checks say it better.
                warnings.filterwarnings("ignore", category=RuntimeWarning)
                return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except (Exception, KeyboardInterrupt) as e:
            command = ctx.invoked_subcommand
            sub = self.get_command(ctx, command) if command else None
            options = {o for p in getattr(sub, "params", []) for o in getattr(p, "opts", [])}
            code, message = _stop_code(*describe(e, command, options))
            if message is None:  # stdout's reader has gone: nothing to tell it
                _silence_stdout()
                raise typer.Exit(code) from None
            if ctx.meta.get(_DEBUG) or _env_debug():
                traceback.print_exception(e)
            raise fail(message, code) from None
        finally:
            _leave_process_group()
            _report_stale_parts()


def _report_stale_parts() -> None:
    """Say which temporary files of an earlier, killed run were removed (when a command wrote any file)."""
    publish = sys.modules.get("convlearn.files.publish")
    line = None if publish is None else publish.take_stale_report()
    if line is not None:
        from rich.markup import escape

        from convlearn.cli.render import stderr

        with contextlib.suppress(OSError):
            stderr.print(f"[dim]Note: {escape(line)}[/]", highlight=False)


def _leave_process_group() -> None:
    """Leave torchrun's process group if a command joined one (without importing torch otherwise)."""
    distributed = sys.modules.get("convlearn.runtime.distributed")
    if distributed is not None:
        distributed.teardown()


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
    ctx: typer.Context,
    version_: bool = typer.Option(
        False, "--version", "-V", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Also print the full traceback of an error (or set CONVLEARN_DEBUG=1)."
    ),
) -> None:
    """Edge detection and kernel learning on images, by 2-D cross-correlation in PyTorch."""
    ctx.meta[_DEBUG] = debug or _env_debug()


#: Below this many columns, COLUMNS (or LINES) is taken as unknown: Rich would wrap every message away.
_MIN_COLUMNS, _MIN_LINES = 20, 2


def _drop_unusable_terminal_size() -> None:
    """``COLUMNS=0`` (or 5) makes Rich print nothing at all; such a size is treated as not given."""
    for name, least in (("COLUMNS", _MIN_COLUMNS), ("LINES", _MIN_LINES)):
        value = os.environ.get(name)
        if value is not None and not (value.strip().isdigit() and int(value) >= least):
            del os.environ[name]


def _prepare_standard_streams() -> None:
    """Hold a closed stdin, stdout or stderr (``<&-``, ``>&-``) with /dev/null, and check every stdout write.

    A closed descriptor would be given to the next file opened, so that printed text
    went into an output file. /dev/null opened the wrong way round keeps the slot:
    reading stdin or writing stdout then fails with a message, not silently.
    stdout becomes a :class:`~convlearn.files.stdio.CheckedStream`: a short or failed
    write (a full disk, ``ulimit -f``) is an error, exit 1.
    """
    for fd, flags in ((0, os.O_WRONLY), (1, os.O_RDONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                spare = os.open(os.devnull, flags)
                if spare != fd:
                    os.dup2(spare, fd)
                    os.close(spare)
    if sys.stdin is None:
        sys.stdin = open(0, closefd=False)
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)
    from convlearn.files.stdio import CheckedStream

    old = sys.stdout
    if old is not None and old is not sys.__stdout__:
        return  # the caller redirected stdout (an embedding program, a test): leave it to them
    encoding = getattr(old, "encoding", None) or "utf-8"
    sys.stdout = CheckedStream(1, "stdout", encoding, getattr(old, "errors", None) or "strict")


def main() -> None:
    """Console-script entry point.

    Typer exits through SystemExit; what reaches here besides is Ctrl-C (or
    SIGTERM, SIGHUP) before a command started (while importing) and a stdout
    closed under us.
    """
    install_signal_handlers()
    _drop_unusable_terminal_size()
    _prepare_standard_streams()
    # The commands' imports (torch's above all) make about a million objects that live as
    # long as the process: collecting every 700 allocations while they load cost 0.3 s of
    # CPU on the 2-core sandbox and freed nothing. Cycles are still collected, less often.
    gc.set_threshold(50_000, 50, 100)
    try:
        app(prog_name="convlearn")
        code: int | str | None = 0
    except SystemExit as e:
        code = e.code
    except BrokenPipeError:  # --help or --version into `| head`: quiet, as inside a command
        _silence_stdout()
        code = EXIT_RUNTIME
    except ConvlearnError as e:  # --help or --version into a closed or full stdout
        _print_error(str(e))
        code = e.exit_code
    except KeyboardInterrupt:
        code, message = _stop_code(EXIT_INTERRUPTED, _STOP_SIGNALS["SIGINT"])
        _print_error(message or "")
    if _received:
        # Stopping already: a signal that comes while the interpreter shuts down
        # (which resets Python's handlers) must not kill it with a second message.
        _ignore_stop_signals()
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        _silence_stdout()
        code = code or EXIT_RUNTIME
    except OSError as e:  # the checked stdout raised it: say so once
        _print_error(str(e))
        _silence_stdout()
        code = code or EXIT_RUNTIME
    sys.exit(code)
