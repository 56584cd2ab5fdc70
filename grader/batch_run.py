"""The `grade batch` and `grade merge` commands: run the jobs, show progress, keep every result.

Jobs run in a local pool of threads, each waiting on its own `grade` process (default: one per
core), or on a Dask cluster (`--dask tcp://scheduler:8786`, or `--dask local:N` for a LocalCluster).
"""

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from grader import batch, class_report
from grader.sources import UsageError


def batch_parser():
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


def run_batch(args, grade_args, console):
    submissions = batch.shard(batch.discover(args.submissions), args.shard)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    options = batch.BatchOptions(grade_args=grade_args, budget_s=args.budget, jobs=args.jobs,
                                 preload=not args.no_preload)
    grading = batch.grading_key(options)
    done = batch.load_results(out)
    todo = []
    for submission in submissions:
        submission.key = batch.content_key(submission, grading)
        if done.get(submission.id, {}).get("key") != submission.key:
            todo.append(submission)
    console.print(f"{len(submissions)} submissions, {len(submissions) - len(todo)} already graded, "
                  f"{len(todo)} to grade")
    failed = 0
    with progress_display(console, len(todo)) as report_progress:
        for submission, data in run_jobs(todo, options, args.dask):
            data["key"] = submission.key
            batch.write_result(out, data)
            failed += data["status"] != "graded"
            report_progress(data, failed)
    results = {k: v for k, v in batch.load_results(out).items() if k in {s.id for s in submissions}}
    class_report.render(class_report.write(results, out), console)
    console.print(f"results in {out}: one JSON per submission, gradebook.csv, summary.json")
    return 0


def run_jobs(todo, options, dask_address):
    """Yield (submission, result) as each finishes, from the local pool or from Dask."""
    if not todo:
        return
    arguments = [(str(s.path), s.kind, options.grade_args, options.budget_s, options.preload) for s in todo]
    if dask_address:
        yield from run_on_dask(todo, arguments, dask_address)
        return
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures = {pool.submit(batch.grade_submission, *a): s for s, a in zip(todo, arguments, strict=True)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            batch.kill_running()
            raise
        finally:
            batch.SLOTS.close()


def run_on_dask(todo, arguments, address):
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
            futures = [client.submit(batch.grade_submission, *a, pure=False) for a in arguments]
            owner = {f.key: s for f, s in zip(futures, todo, strict=True)}
            for future in dask_completed(futures):
                yield owner[future.key], future.result()
    finally:
        if cluster is not None:
            cluster.close()


class progress_display:
    """A rich progress bar on a terminal; one plain line per submission elsewhere (CI logs)."""

    def __init__(self, console, total):
        self.console, self.total, self.count = console, total, 0
        self.started = time.monotonic()
        self.bar = None
        if console.is_terminal and total:
            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[failed]} failed"), TimeRemainingColumn(), console=console)
            self.task = self.bar.add_task("grading", total=total, failed=0)

    def __enter__(self):
        if self.bar:
            self.bar.start()
        return self.update

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()

    def update(self, data, failed):
        self.count += 1
        if self.bar:
            self.bar.update(self.task, advance=1, failed=failed)
            return
        score = (f"{data['report']['score']:g}/{data['report']['max_score']:g}" if data["report"]
                 else data["status"])
        elapsed = time.monotonic() - self.started
        left = elapsed / self.count * (self.total - self.count)
        self.console.print(f"[{self.count}/{self.total}] {data['id']}: {score} ({data['duration_s']:.1f} s)"
                           f"{' - ' + data['reason'][:80] if data['reason'] else ''}; {failed} failed, "
                           f"about {left:.0f} s left", highlight=False, soft_wrap=True)


def merge_parser():
    parser = argparse.ArgumentParser(prog="grade merge", description="Merge results directories (shards).")
    parser.add_argument("results", nargs="+", help="results directories written by grade batch --shard")
    parser.add_argument("--out", required=True, help="the merged results directory")
    return parser


def run_merge(args, console):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    merged = {}
    for directory in args.results:
        for key, data in batch.load_results(directory).items():
            if key in merged:
                raise UsageError(f"submission {key} is in more than one results directory")
            merged[key] = data
            batch.write_result(out, data)
    class_report.render(class_report.write(merged, out), console)
    console.print(f"merged {len(merged)} results from {len(args.results)} directories into {out}")
    return 0
