"""Exit statuses of `grade` and the one place that turns an error into a status and a message.

0 graded; 1 graded but below --fail-under; 2 usage error; 3 grader error. The grader never shows a
traceback to a user: every command runs through `run_command`.
"""

from collections.abc import Callable, Sequence

from rich.console import Console
from rich.markup import escape

from grader.core.errors import GraderError, UsageError

EXIT_OK, EXIT_BELOW, EXIT_USAGE, EXIT_GRADER = 0, 1, 2, 3

Runner = Callable[[list[str], Console], int]


def run_command(runner: Runner, argv: Sequence[str]) -> int:
    """Run one `grade` subcommand on `argv`; its exit status, with any error said on stderr."""
    console = Console()
    errors = Console(stderr=True, soft_wrap=True)
    try:
        return runner(list(argv), console)
    except UsageError as exc:
        errors.print(f"[red]grade: {escape(str(exc))}[/red]", highlight=False)
        return EXIT_USAGE
    except GraderError as exc:
        errors.print(f"[red]grade: grader error: {escape(str(exc))}[/red]", highlight=False)
        return EXIT_GRADER
    except KeyboardInterrupt:
        errors.print("[red]grade: interrupted[/red]")
        return EXIT_GRADER
    except Exception as exc:  # the grader never shows a traceback to a learner
        errors.print(f"[red]grade: grader error ({type(exc).__name__}: {escape(str(exc))}). Please report it.[/red]",
                     highlight=False)
        return EXIT_GRADER
