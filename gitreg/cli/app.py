"""The typer application, and the one place that maps errors to exit codes.

Exit codes: 0 success, 1 a failed check or rejected operation, 2 bad usage,
3 an unexpected error (the traceback goes to a crash report file), 130 interrupted.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Annotated, Any

import click
import typer

from gitreg import __version__
from gitreg.cli import apikey, publish, read, repair, serve, signers, verify
from gitreg.cli import diff as diff_command
from gitreg.cli import hooks as hooks_command
from gitreg.cli import init as init_command
from gitreg.cli import merge as merge_command
from gitreg.cli import release as release_command
from gitreg.errors import GitregError

EXIT_CRASH = 3

app = typer.Typer(
    name="gitreg",
    help="A model registry and dataset catalog kept in a git repository.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def _configure_logging(*, verbose: bool) -> None:
    package_logger = logging.getLogger("gitreg")
    package_logger.setLevel(logging.INFO if verbose else logging.WARNING)
    if not any(isinstance(handler, _StderrHandler) for handler in package_logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("gitreg: %(levelname)s: %(message)s"))
        package_logger.addHandler(handler)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gitreg {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    ctx: typer.Context,
    repo: Annotated[
        Path | None,
        typer.Option(
            "--repo",
            "-C",
            help="Run as if gitreg was started in this directory instead of the current one.",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what gitreg does to standard error.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """A model registry and dataset catalog kept in a git repository."""
    _configure_logging(verbose=verbose)
    if repo is not None:
        if not repo.is_dir():
            raise GitregUsage(f"--repo '{repo}' is not a directory")
        os.chdir(repo)


class GitregUsage(click.UsageError):
    """A usage error found while parsing global options."""


publish.register(app)
read.register(app)
verify.register(app)
init_command.register(app)
signers.register(app)
repair.register(app)
serve.register(app)
apikey.register(app)
hooks_command.register(app)
merge_command.register(app)
diff_command.register(app)
release_command.register(app)


def _crash_report(exc: BaseException) -> Path:
    folder = Path(tempfile.gettempdir())
    report = folder / f"gitreg-crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    report.write_text(f"gitreg {__version__}\nargv: {sys.argv}\n\n{text}", encoding="utf-8")
    return report


def _click_classes(name: str, module_class: type[Any]) -> tuple[type[Any], ...]:
    """``module_class`` plus the class called ``name`` in the click that typer raises.

    typer 0.29 ships its own copy of click and raises that copy's exceptions, which
    are not subclasses of click's, so each catch names both.
    """
    typer_click = vars(sys.modules[typer.BadParameter.__module__])
    return tuple({module_class} | ({typer_click[name]} if name in typer_click else set()))


_CLICK_ERRORS = _click_classes("ClickException", click.ClickException)
_USAGE_ERRORS = _click_classes("UsageError", click.UsageError)
_HELP_REQUESTS = _click_classes("NoArgsIsHelpError", click.exceptions.NoArgsIsHelpError)


def _show_click_error(exc: Any) -> None:
    """Print a click error as one line, or the help that a bare command requests."""
    if isinstance(exc, _HELP_REQUESTS) or not isinstance(exc, _USAGE_ERRORS):
        exc.show()
        return
    command = exc.ctx.command_path if exc.ctx is not None else "gitreg"
    topic = "the commands and options" if command == "gitreg" else "the options"
    message = exc.format_message()
    # typer and click both append suggestions for an unknown command; keep typer's.
    head, _, tail = message.partition(" (Did you mean one of:")
    if tail and "Did you mean" in head:
        message = head
    typer.echo(f"error: {message} (run '{command} --help' for {topic})", err=True)
_ABORTS: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort)


def run(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="gitreg", standalone_mode=False)
    except _CLICK_ERRORS as exc:
        _show_click_error(exc)
        return int(exc.exit_code)
    except _ABORTS:
        typer.echo("Aborted.", err=True)
        return 1
    except GitregError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort that keeps tracebacks off screen
        summary = " ".join(str(exc).split())
        try:
            where = f"details in {_crash_report(exc)}; please include that file in a bug report"
        except OSError as report_error:
            where = f"no crash report, because writing it failed: {report_error}"
        typer.echo(f"error: unexpected {type(exc).__name__}: {summary} ({where})", err=True)
        return EXIT_CRASH
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())
