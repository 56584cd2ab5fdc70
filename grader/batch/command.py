"""The `grade batch`, `grade merge` and `grade merge-lms` commands: run the jobs, show progress, keep
every result, fill an LMS gradebook.

    discover -> shard -> skip what is already graded -> grade (pool or Dask) -> gradebook + summary

Jobs run in a local pool of threads, each waiting on its own `grade` process (default: one per
core), or on a Dask cluster (`--dask tcp://scheduler:8786`, or `--dask local:N` for a LocalCluster).
"""

import argparse
import os
import textwrap
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from grader.batch import class_report, runner
from grader.batch.pool import SLOTS
from grader.batch.submissions import BatchOptions, Submission, content_key, discover, grading_key, id_warning, shard
from grader.core.errors import UsageError
from grader.core.exits import EXIT_OK
from grader.core.sanitise import for_terminal
from grader.core.status import RowStatus
from grader.grading.command import grade_parser
from grader.reports import formats
from grader.reports.formats.gradebook import merge_canvas


def batch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade batch", description="Grade every submission in a directory, resumably.",
        epilog="Other options (--only, --seed, --isolation, limits) are passed to each grading.")
    parser.add_argument("submissions", help="a directory with one sub-directory, .zip or .ipynb per submission")
    parser.add_argument("--out", required=True, help="the results directory (one JSON per submission, gradebook)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions at once (default: cores)")
    parser.add_argument("--dask", metavar="ADDRESS", help="a Dask scheduler address, or local:N for a LocalCluster")
    parser.add_argument("--shard", metavar="I/N", help="grade only shard I of N (for CI matrices; see grade merge)")
    parser.add_argument("--budget", type=float, default=900.0, metavar="S",
                        help="wall-clock budget per submission (default 900 s)")
    parser.add_argument("--no-preload", action="store_true",
                        help="import TensorFlow afresh for every submission (slower; for comparison)")
    return parser


def run_batch(args: argparse.Namespace, grade_args: list[str], console: Console) -> int:
    # Absolute paths: each submission is graded by a process with another working directory (a grade
    # process runs in the repository; a Dask worker, on any machine sharing the filesystem, in its own).
    found = discover(os.path.abspath(args.submissions))
    warning = id_warning(found)
    if warning:
        console.print(for_terminal(warning), style="yellow", soft_wrap=True)
    submissions = shard(found, args.shard)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    options = BatchOptions(grade_args=grade_args, budget_s=args.budget, jobs=args.jobs,
                                 preload=not args.no_preload)
    grading = grading_key(options)
    done = runner.load_results(out)
    todo = []
    for submission in submissions:
        submission.key = content_key(submission, grading)
        if done.get(submission.id, {}).get("key") != submission.key:
            todo.append(submission)
    console.print(f"{len(submissions)} submissions, {len(submissions) - len(todo)} already graded, "
                  f"{len(todo)} to grade")
    not_graded = 0
    with ProgressDisplay(console, len(todo)) as report_progress:
        for submission, data in run_jobs(todo, options, args.dask):
            data["key"] = submission.key
            runner.write_result(out, data)
            not_graded += data["status"] != RowStatus.GRADED
            report_progress(data, not_graded)
    results = {k: v for k, v in runner.load_results(out).items() if k in {s.id for s in submissions}}
    class_report.render(class_report.write(results, out), console)
    console.print(f"results in {out}: one JSON and one feedback page per submission, gradebook.csv, summary.json "
                  f"and the class page {out / 'summary.html'}")
    return 0


def run_jobs(todo: list[Submission], options: BatchOptions,
             dask_address: str | None) -> Iterator[tuple[Submission, dict[str, Any]]]:
    """Yield (submission, result) as each finishes, from the local pool or from Dask."""
    if not todo:
        return
    arguments = [(s, options.grade_args, options.budget_s, options.preload) for s in todo]
    if dask_address:
        yield from run_on_dask(todo, arguments, dask_address)
        return
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures = {pool.submit(runner.grade_submission, *a): s for s, a in zip(todo, arguments, strict=True)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            runner.kill_running()
            raise
        finally:
            SLOTS.close()


def run_on_dask(todo: list[Submission], arguments: list[tuple],
                address: str) -> Iterator[tuple[Submission, dict[str, Any]]]:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise UsageError("--dask needs Dask: pip install 'rnn-autograder[dask]'") from None
    cluster = None
    if address.startswith("local:"):
        cluster = LocalCluster(n_workers=int(address.split(":", 1)[1]), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        address = cluster.scheduler_address
    try:
        with Client(address) as client:
            futures = [client.submit(runner.grade_submission, *a, pure=False) for a in arguments]
            owner = {f.key: s for f, s in zip(futures, todo, strict=True)}
            for future in dask_completed(futures):
                yield owner[future.key], future.result()
    finally:
        if cluster is not None:
            cluster.close()


class ProgressDisplay:
    """A rich progress bar on a terminal; one plain line per submission elsewhere (CI logs)."""

    def __init__(self, console: Console, total: int):
        self.console, self.total, self.count = console, total, 0
        self.started = time.monotonic()
        self.bar = None
        if console.is_terminal and total:
            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[not_graded]} not graded"), TimeRemainingColumn(),
                                console=console)
            self.task = self.bar.add_task("grading", total=total, not_graded=0)

    def __enter__(self) -> Callable[[dict[str, Any], int], None]:
        if self.bar:
            self.bar.start()
        return self.update

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.bar:
            self.bar.stop()

    def update(self, data: dict[str, Any], not_graded: int) -> None:
        """One submission done; `not_graded` counts rows that got no score (not a submission, timeout,
        crash), not learners who scored low."""
        self.count += 1
        if self.bar:
            self.bar.update(self.task, advance=1, not_graded=not_graded)
            return
        score = (f"{data['report']['score']:g}/{data['report']['max_score']:g}" if data["report"]
                 else data["status"])
        elapsed = time.monotonic() - self.started
        left = elapsed / self.count * (self.total - self.count)
        reason = f" - {textwrap.shorten(data['reason'], 100, placeholder=' ...')}" if data["reason"] else ""
        self.console.print(for_terminal(f"[{self.count}/{self.total}] {data['id']}: {score} "
                                        f"({data['duration_s']:.1f} s){reason}; {not_graded} not graded, "
                                        f"about {left:.0f} s left"), soft_wrap=True)


def merge_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grade merge", description="Merge results directories (shards).")
    parser.add_argument("results", nargs="+", help="results directories written by grade batch --shard")
    parser.add_argument("--out", required=True, help="the merged results directory")
    return parser


def run_merge(args: argparse.Namespace, console: Console) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    merged = {}
    for directory in args.results:
        for key, data in runner.load_results(directory).items():
            if key in merged:
                raise UsageError(f"submission {key} is in more than one results directory")
            merged[key] = data
            runner.write_result(out, data)
    class_report.render(class_report.write(merged, out), console)
    console.print(f"merged {len(merged)} results from {len(args.results)} directories into {out}")
    return 0


def main_batch(argv: list[str], console: Console) -> int:
    """`grade batch`: options of its own, the rest passed to each grading (checked before starting)."""
    args, grade_args = batch_parser().parse_known_args(argv)
    extra = grade_parser().parse_args(["exercises", *grade_args])
    for flag in ("json", "gradescope", "junit", "markdown", "html", "csv"):
        if getattr(extra, flag):
            raise UsageError(f"--{flag} is per submission: grade batch writes one JSON per submission in --out")
    return run_batch(args, grade_args, console)


def main_merge(argv: list[str], console: Console) -> int:
    return run_merge(merge_parser().parse_args(argv), console)


def main_merge_lms(argv: list[str], console: Console) -> int:
    """`grade merge-lms`: our gradebook's totals into a Canvas gradebook export."""
    parser = argparse.ArgumentParser(prog="grade merge-lms",
                                     description="Merge a grade gradebook CSV into a Canvas gradebook export.")
    parser.add_argument("gradebook", help="our gradebook CSV (grade --csv, or grade batch's gradebook.csv)")
    parser.add_argument("canvas", help="the gradebook exported from Canvas (CSV)")
    parser.add_argument("--assignment", required=True, help='the Canvas column, e.g. "RNN exercises (1234)"')
    parser.add_argument("--id-column", default="SIS Login ID", help="Canvas column matching our ids")
    parser.add_argument("--out", required=True, help="where to write the merged CSV to import into Canvas")
    args = parser.parse_args(argv)
    try:
        merged, unmatched = merge_canvas(Path(args.gradebook).read_text(), Path(args.canvas).read_text(),
                                         args.assignment, args.id_column)
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    formats.write(merged, args.out)
    console.print(f"wrote {args.out}")
    for submission in unmatched:
        console.print(for_terminal(f"no Canvas student has {args.id_column} {submission!r}"), style="yellow")
    return EXIT_OK
