"""``xlbench``: run | tune | report | compare | results | list | check | new-method | new-task | check-task | data fetch.

Every user error (unknown name, bad suite, bad data) becomes one clear message on stderr and
exit status 2, before any training starts. Exit 1 means some cells failed (``compare``:
the two runs' conclusions differ); 130 means the run was interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from bench.runner import Prepared

DEFAULT_SUITE = "default"


def _data_dir(value: str | None) -> Path | None:
    raw = value or os.environ.get("XLBENCH_DATA")
    return Path(raw).expanduser() if raw else None


def _progress(total: int) -> tuple[Callable[[dict], None], Callable[[], None]]:
    """A rich progress bar on a terminal, one line per cell otherwise."""
    if sys.stderr.isatty():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
        job = bar.add_task("cells", total=total)
        bar.start()

        def tick(event: dict) -> None:
            cell = event["cell"]
            bar.update(job, advance=1, description=f"{cell.task} {cell.method} {cell.lang} K={cell.shots}")

        return tick, bar.stop
    done = [0]

    def line(event: dict) -> None:
        done[0] += 1
        cell, rec = event["cell"], event["record"]
        head = next((f"{s['metric']}={s['value']:.1f}" for s in rec.get("scores", [])[:1]), rec.get("reason") or "")
        print(f"[{done[0]}/{total}] {cell.task} {cell.method} seed={cell.seed} lang={cell.lang} "
              f"K={'all' if cell.shots == -1 else cell.shots} {rec['status']} {head} ({event['seconds']:.1f}s)",
              file=sys.stderr, flush=True)

    return line, lambda: None


def _with_tuned(suite, args: argparse.Namespace):  # noqa: ANN001, ANN202 - Suite in, Suite out
    """The suite with its tuned file applied (``--tuned PATH``, else the suite's own, if it
    exists), unless ``--no-tuned``."""
    from bench import suite as suites
    from bench.errors import SuiteError
    from bench.trials import attach, tuned_path

    if args.no_tuned:
        return suite
    if args.tuned:
        path = Path(args.tuned)
        if not path.is_file():
            raise SuiteError(f"--tuned {path}: no such file; run `xlbench tune --suite {args.suite}` first")
    else:
        path = tuned_path(suites.suite_path(args.suite), suite.name, suite.tuning)
        if not path.is_file():
            print(f"no tuned file {path}: running the suite's own configs (make one with "
                  f"`xlbench tune --suite {args.suite}`)", file=sys.stderr)
            return suite
    display = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    tuned = attach(suite, path, display)
    counts = sorted({(e.method, e.trials) for e in tuned.tuned.entries})
    print(f"tuned configs from {display} (trials: "
          + ", ".join(f"{m} {n}" for m, n in counts) + ")", file=sys.stderr)
    return tuned


def _execute(prepared, suite, args: argparse.Namespace):  # noqa: ANN001, ANN202
    """Run the pending groups of ``prepared`` on the chosen executor, with progress."""
    from bench import registry
    from bench.executors import EXECUTORS

    executor_name = args.executor or suite.executor.get("name", "local")
    if executor_name not in EXECUTORS:
        from bench.errors import UnknownNameError

        raise UnknownNameError(registry.unknown_message("backbone", executor_name, sorted(EXECUTORS))
                               .replace("backbone", "executor"))
    options = {k: v for k, v in suite.executor.items() if k != "name"}
    if args.workers:
        options["workers"] = args.workers
    from bench.executors.options import check_options

    check_options(executor_name, options, "--executor/--workers")  # exit 2 before any work
    executor = registry._import(EXECUTORS[executor_name], executor_name, "backbone")(options)
    tick, stop = _progress(len(prepared.pending))
    try:
        return executor.run(prepared, tick)
    finally:
        stop()


def cmd_run(args: argparse.Namespace) -> int:
    from bench import suite as suites
    from bench.runner import prepare

    suite = suites.load_suite(args.suite)
    # Names of the suite only select cells of its run; any other name makes a new suite.
    only_tasks = args.task or ()
    if any(t not in {s.label for s in suite.tasks} for t in only_tasks):
        suite, only_tasks = suites.with_tasks(suite, args.task), ()
    only_methods = args.method or ()
    if any(m not in {s.label for s in suite.methods} for m in only_methods):
        suite, only_methods = suites.with_methods(suite, args.method), ()
    suite = _with_tuned(suite, args)
    prepared = prepare(suite, Path(args.results_dir), _data_dir(args.data_dir), args.new_run,
                       only_tasks, only_methods, retry_failed=args.retry_failed)
    pending = prepared.pending
    retried = f" ({len(prepared.retry)} failed, computed again)" if prepared.retry else ""
    print(f"suite {suite.name}: {len(prepared.cells)} cells, {len(prepared.cells) - len(pending)} already "
          f"finished, {len(pending)} to compute{retried} -> {prepared.run_dir}", file=sys.stderr)
    if not pending:
        print(_nothing_to_do(args, prepared), file=sys.stderr)
        return 0
    summary = _execute(prepared, suite, args)
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary.statuses.items()))
    print(f"computed {summary.computed} cells ({counts}); skipped {summary.skipped} finished; "
          f"results in {prepared.run_dir}", file=sys.stderr)
    return summary.exit_code


def _nothing_to_do(args: argparse.Namespace, prepared: "Prepared") -> str:
    """The hint when every cell is finished: commands that do something from here."""
    from shlex import quote

    suite = f" --suite {quote(args.suite)}" if args.suite != DEFAULT_SUITE else ""
    root = f" --results-dir {quote(args.results_dir)}" if args.results_dir != "results" else ""
    out = f"nothing to do: every cell of this run is finished; `xlbench report{suite}{root}` renders it"
    if prepared.failed:
        out += (f"; {len(prepared.failed)} cells are failed/oom: `xlbench run{suite}{root} --retry-failed` "
                "computes them again")
    return out + f"; `xlbench run{suite}{root} --new-run` starts a fresh run folder beside it"


def cmd_tune(args: argparse.Namespace) -> int:
    import dataclasses
    import time

    from bench import suite as suites
    from bench import tune
    from bench.runner import prepare
    from bench.trials import tuned_path

    start = time.perf_counter()
    suite = suites.load_suite(args.suite)
    if args.trials is not None:
        if args.trials < 1:
            from bench.errors import SuiteError

            raise SuiteError(f"--trials must be >= 1, got {args.trials}")
        suite = dataclasses.replace(suite, tuning=dataclasses.replace(suite.tuning, trials=args.trials))
    trial_suite, plans = tune.plan(suite)
    tune.check_equal(plans)
    out = Path(args.out) if args.out else tuned_path(suites.suite_path(args.suite), suite.name, suite.tuning)
    prepared = prepare(trial_suite, Path(args.results_dir), _data_dir(args.data_dir), new_run=True)
    pending = prepared.pending
    spaced = [p for p in plans if p.space]
    print(f"tuning {suite.name}: {len(spaced)} method(s) x {suite.tuning.trials} trials"
          + (f", {len(plans) - len(spaced)} with no search space x 1 trial" if len(spaced) < len(plans) else "")
          + f" on dev languages {', '.join(f'{k}: {list(i.dev_langs)}' for k, i in prepared.infos.items())}; "
          f"{len(prepared.cells)} cells, {len(pending)} to compute -> {prepared.run_dir}", file=sys.stderr)
    status = 0
    if pending:
        summary = _execute(prepared, trial_suite, args)
        status = 1 if summary.statuses.get("failed") else 0  # a diverged trial is a result
        print(f"computed {summary.computed} trial cells ("
              + ", ".join(f"{v} {k}" for k, v in sorted(summary.statuses.items())) + ")", file=sys.stderr)
    kinds = {k: i.kind for k, i in prepared.infos.items()}
    entries = tune.collect(suite, trial_suite, prepared.run_dir, plans, kinds)
    dev = {k: i.dev_langs for k, i in prepared.infos.items()}
    path = tune.write(out, suite, trial_suite, prepared.run_dir, entries, dev, time.perf_counter() - start)
    print(tune.trial_table(entries))
    print(f"wrote {path} ({time.perf_counter() - start:.0f} s); `xlbench run --suite {args.suite}` uses it",
          file=sys.stderr)
    return status


def _runs(args: argparse.Namespace) -> list[Path]:
    from bench import store
    from bench.errors import XlbenchError

    if args.results:
        return [Path(p) for p in args.results]
    name = args.suite  # a suite file's runs are stored under the name it declares
    if Path(name).suffix in {".yaml", ".yml"}:
        from bench.suite import load_suite

        name = load_suite(name).name
    runs = store.run_dirs(Path(args.results_dir), name)
    if not runs:
        raise XlbenchError(f"no results for suite {name!r} under {args.results_dir}/; "
                           f"run `xlbench run --suite {args.suite}` first, or pass --results <run folder>")
    return [runs[-1]]


def cmd_report(args: argparse.Namespace) -> int:
    from bench import store
    from bench.report import compatible, render

    runs = _runs(args)
    results = store.load(runs)
    compatible(results.manifests)
    suite_name = results.manifests[0]["suite"]["name"]
    out = Path(args.out) if args.out else Path("reports") / suite_name
    paths = render(results, out)
    print(f"wrote {len(paths)} files to {out}/ (open {out / 'index.html'})", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from bench import store
    from bench.agreement import compare_runs, lines

    a, b = store.load([Path(args.run_a)]), store.load([Path(args.run_b)])
    verdict = compare_runs(a, b, args.reference, alpha=args.alpha, boot=args.boot,
                           methods=tuple(args.method or ()))
    print("\n".join(lines(verdict, args.run_a, args.run_b)))
    return 0 if verdict.same else 1


def cmd_results(args: argparse.Namespace) -> int:
    from bench import store

    results = store.load(_runs(args))
    table = getattr(results, args.table)
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        table.to_json(sys.stdout, orient="records", lines=True)
    else:
        from bench.report.formats import frame_markdown

        sys.stdout.write(frame_markdown(table))  # no optional dependency (pandas' to_markdown needs tabulate)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from bench import registry
    from bench import suite as suites

    if args.what in ("suites", "all"):
        print("suites:  " + ", ".join(suites.builtin_suites()))
    for kind in ("task", "method", "backbone"):
        if args.what in (kind + "s", "all"):
            entries = registry.entries(kind)  # type: ignore[arg-type]
            print(f"{kind}s: " + ", ".join(f"{n}" + ("" if e.origin == "built-in" else f" ({e.origin})")
                                          for n, e in sorted(entries.items())))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from bench import registry
    from bench.contract.checks import CHECK_TASKS, CLASS_CHECKS, TASK_CHECKS, passed, run_checks
    from bench.errors import UnknownNameError

    cls: Any = registry.resolve("method", args.name)
    only = args.only or None
    bad = sorted(set(only or ()) - set(TASK_CHECKS) - set(CLASS_CHECKS))
    if bad:
        raise UnknownNameError(f"unknown check(s) {bad}; valid: {', '.join([*CLASS_CHECKS, *TASK_CHECKS])}")
    config = None
    if args.config:
        from bench.suite import _config, instantiate

        raw = {k: _yaml_value(v) for k, _, v in (item.partition("=") for item in args.config)}
        config = instantiate(cls, _config(cls.Config, raw, f"--config for {args.name!r}"))
    tasks = CHECK_TASKS if "all" in (args.task or ["all"]) else tuple(args.task)
    print(f"checking {args.name} ({cls.__module__}:{cls.__qualname__}) on {', '.join(tasks)}", flush=True)
    results = run_checks(cls, tasks, config=config, only=only)
    for r in results:
        print(r.line(), flush=True)
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "FAIL", "SKIP")}
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    return 0 if passed(results) else 1


def _yaml_value(text: str) -> object:
    from bench.suite import read_yaml

    return read_yaml(text) if text else text  # as in a suite file: 1e-3 is a number


def cmd_new_method(args: argparse.Namespace) -> int:
    from bench.contract.scaffold import write_skeleton

    folder = write_skeleton(args.name, Path(args.dir))
    print(f"wrote {folder}/ — next:\n  pip install -e {folder}\n  xlbench check {args.name}\n"
          f"  then name {args.name!r} under methods: in a suite and `xlbench run --suite <it>.yaml`")
    return 0


def cmd_new_task(args: argparse.Namespace) -> int:
    from bench.taskscaffold import write_task

    folder = write_task(args.name, Path(args.dir))
    print(f"wrote {folder}/ ({args.name}.yaml, a sample dataset in data/, suite.yaml, {args.name}_plugin.py) — next:\n"
          f"  xlbench check-task {folder / (args.name + '.yaml')}\n"
          f"  xlbench run --suite {folder / 'suite.yaml'}\n"
          f"  xlbench report --suite {folder / 'suite.yaml'}\n"
          f"then point root:/path:/fields: at your data and edit languages:")
    return 0


def cmd_check_task(args: argparse.Namespace) -> int:
    from bench.taskcheck import check_task

    overrides = {k: _yaml_value(v) for k, _, v in (item.partition("=") for item in args.config or ())}
    return check_task(args.task, _data_dir(args.data_dir), shots=args.shots, overrides=overrides)


def cmd_data(args: argparse.Namespace) -> int:
    from bench.datafetch import fetch

    for name in args.names:
        fetch(name, Path(args.data_dir).expanduser(), base_url=args.base_url)
    return 0


def cmd_perf(args: argparse.Namespace) -> int:
    from bench.perf.benchmark import main as perf_main

    return perf_main(quick=args.quick, json_path=args.json, repeats=args.repeats, threads=args.threads)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlbench",
        description="Does meta-learning beat standard transfer for cross-lingual understanding "
                    "under a matched budget? Run suites, store every score, render reports.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--suite", default=DEFAULT_SUITE,
                       help="built-in suite name (see `xlbench list suites`) or a YAML path (default: %(default)s)")
        p.add_argument("--results-dir", default="results", help="where runs live (default: %(default)s)")

    p = sub.add_parser("run", help="run a suite (default: the embedded offline suite)",
                       description="Train every (task, method) pair of a suite under its matched budget and "
                                   "store every score. Rerunning resumes: finished cells are skipped.")
    common(p)
    p.add_argument("--task", action="append", metavar="NAME",
                   help="compute only these tasks of the suite's run (repeatable); a task the suite "
                        "does not name runs with the suite's settings as a new run")
    p.add_argument("--method", action="append", metavar="NAME",
                   help="compute only these methods of the suite's run (repeatable); other names "
                        "(built-in, plugin or module:Class) replace the suite's methods in a new run")
    p.add_argument("--data-dir", help="folder holding real datasets in their upstream layout (or env XLBENCH_DATA)")
    p.add_argument("--new-run", action="store_true",
                   help="start a new run folder (also when the suite changed); without it a rerun resumes")
    p.add_argument("--retry-failed", action="store_true",
                   help="compute again the cells recorded failed, oom or timed out (their old records are "
                        "kept as *.retried-N)")
    p.add_argument("--executor", help="engine: local (default: supervised worker subprocesses), dask, slurm, inline (this process)")
    p.add_argument("--workers", type=int, help="parallel workers for executors that have them")
    p.add_argument("--tuned", metavar="PATH", help="tuned-config file to apply (default: the suite's "
                   "tuned/<name>.yaml beside it, when it exists)")
    p.add_argument("--no-tuned", action="store_true", help="ignore tuned files: run the suite's own configs")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("tune", help="tune every method with the same number of trials on dev languages",
                       description="Give every method of the suite the same number of trials (its "
                                   "tuning: block; trial 0 = its defaults) over its declared search space, "
                                   "scored on the tasks' dev languages only (target data is never read), "
                                   "and write the tuned-config file `xlbench run` applies. Trials are "
                                   "ordinary cells: rerunning resumes.")
    common(p)
    p.add_argument("--trials", type=int, help="override tuning.trials (the same for every method)")
    p.add_argument("--out", help="where to write the tuned file (default: tuned/<suite>.yaml beside the suite)")
    p.add_argument("--data-dir", help="folder holding real datasets (or env XLBENCH_DATA)")
    p.add_argument("--executor", help="engine, as for `run`")
    p.add_argument("--workers", type=int, help="parallel workers for executors that have them")
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser("report", help="render tables, figures and index.html from stored results",
                       description="Reads results only (never trains) and writes reports/<suite>/.")
    common(p)
    p.add_argument("--results", action="append", metavar="RUN_DIR",
                   help="run folder(s) to report; several are merged when compatible (default: the suite's latest run)")
    p.add_argument("--out", help="output folder (default: reports/<suite>)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("compare", help="do two runs reach the same conclusions? (marks, means in CIs)",
                       description="Compare two runs (another machine, thread count or seed set): the "
                                   "main-table marks against the reference and every mean inside the other "
                                   "run's 95% CI. Exit 0: same conclusions; 1: they differ (each difference "
                                   "listed); 2: bad input.")
    p.add_argument("run_a", metavar="RUN_A", help="a run folder, e.g. results/default/<run-id>")
    p.add_argument("run_b", metavar="RUN_B", help="another run folder")
    p.add_argument("--reference", help="compare against this method (default: the suite's reference, else finetune)")
    p.add_argument("--alpha", type=float, default=0.05, help="family-wise level (default: %(default)s)")
    p.add_argument("--boot", type=int, default=1000, help="bootstrap resamples (default: %(default)s)")
    p.add_argument("--method", action="append", metavar="NAME",
                   help="compare only these methods (repeatable; the reference and trivial floors stay)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("results", help="export stored results as a tidy table")
    common(p)
    p.add_argument("--results", action="append", metavar="RUN_DIR", help="run folder(s) (default: latest run)")
    p.add_argument("--format", choices=("csv", "json", "md"), default="csv", help="(default: %(default)s)")
    p.add_argument("--table", choices=("scores", "cells", "audit", "languages"), default="scores",
                   help="which table (default: %(default)s)")
    p.set_defaults(func=cmd_results)

    p = sub.add_parser("perf", help="time xlbench's meta-steps against reference loops, and evaluation cells/s",
                       description="Side-by-side timings (interleaved, median of repeats) of xlbench's MAML, "
                                   "FOMAML, Reptile and ProtoNet steps and per-task reference loops, after a "
                                   "gradient check; the fp32 matmul peak; end-to-end evaluation cells/s.")
    p.add_argument("--quick", action="store_true", help="a fast smoke version (small sizes, few repeats)")
    p.add_argument("--json", metavar="PATH", help="where to write the JSON record (default: results/perf/<git sha>.json)")
    p.add_argument("--repeats", type=int, help="timed runs per implementation (default: 5; --quick: 2)")
    p.add_argument("--threads", type=int, help="torch/BLAS threads (default: env XLBENCH_THREADS, else what one `xlbench run` worker gets)")
    p.set_defaults(func=cmd_perf)

    p = sub.add_parser("list", help="list built-in and installed tasks, methods, backbones and suites")
    p.add_argument("what", nargs="?", default="all", choices=("all", "tasks", "methods", "backbones", "suites"))
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("check", help="run the method contract checks on tiny synthetic tasks (seconds, offline)",
                       description="Check that a method keeps the contract: Config, kinds, cheap construction, "
                                   "budget, weights, predictions, episode isolation, determinism, no target access. "
                                   "Exit 0: all pass; 1: a check failed; 2: bad input.")
    p.add_argument("name", help="method: built-in name, plugin name or module:Class")
    p.add_argument("--task", action="append", choices=("synth-topic", "synth-qa", "synth-summ", "all"),
                   help="check on these tiny tasks (repeatable; default: all)")
    p.add_argument("--config", action="append", metavar="KEY=VALUE", help="a Config field override (repeatable)")
    p.add_argument("--only", action="append", metavar="CHECK", help="run only these checks (repeatable)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("new-method", help="write a ready-to-edit method plugin package",
                       description="Write xlbench-NAME/: pyproject.toml with an xlbench.methods entry point, "
                                   "a working method with a documented frozen Config, and a test calling the checks.")
    p.add_argument("name", help="the method's registry name (a Python identifier, e.g. mymethod)")
    p.add_argument("--dir", default=".", help="where to create the folder (default: current folder)")
    p.set_defaults(func=cmd_new_method)

    p = sub.add_parser("new-task", help="write a task as YAML (every field commented), sample data and a suite",
                       description="Write NAME/: NAME.yaml (a declarative task, every field commented), a small "
                                   "made-up dataset in data/, suite.yaml, and NAME_plugin.py (a Python skeleton "
                                   "for what YAML cannot express). Never overwrites.")
    p.add_argument("name", help="the task's name (lower-case letters, digits, _)")
    p.add_argument("--dir", default=".", help="where to create the folder (default: current folder)")
    p.set_defaults(func=cmd_new_task)

    p = sub.add_parser("check-task", help="validate a task and show its files, counts, alignment, leakage, an episode",
                       description="Read every file of a task (a YAML spec or a registered name with its default "
                                   "config) and print files, counts per language/role/label, item-id alignment "
                                   "across languages, the leakage and duplicate-text checks, skipped records and a "
                                   "preview of one episode. Exit 0: valid; 1: a leak; 2: bad spec or data.")
    p.add_argument("task", help="path to a task YAML, or a task name (see `xlbench list tasks`)")
    p.add_argument("--data-dir", help="folder holding datasets in their upstream layout (or env XLBENCH_DATA)")
    p.add_argument("--shots", type=int, default=1, help="K of the previewed episode (default: %(default)s)")
    p.add_argument("--config", action="append", metavar="KEY=VALUE",
                   help="a config field override, YAML value (repeatable), e.g. target_langs=[amh,hau] or caps={test: 50}")
    p.set_defaults(func=cmd_check_task)

    p = sub.add_parser("data", help="get the real datasets: `xlbench data fetch NAME --data-dir DIR`")
    data_sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    f = data_sub.add_parser("fetch", help="download a dataset's upstream archive at its pinned commit, verify, extract",
                            description="Download https://github.com/OWNER/REPO/archive/COMMIT.tar.gz for each named "
                                        "dataset (the commit pinned in xlbench), check every data file against its "
                                        "pinned sha256, and move the upstream layout into DIR/<folder>/ in one rename "
                                        "(nothing is left half-written on a bad hash or a cut download).")
    f.add_argument("names", nargs="+", metavar="NAME", help="sib200, nusax, masakhanews, xquad (or their folder names), or all")
    f.add_argument("--data-dir", default=os.environ.get("XLBENCH_DATA") or "data",
                   help="where to put the datasets (default: $XLBENCH_DATA or ./data)")
    f.add_argument("--base-url", default=None,
                   help="archive host (default: env XLBENCH_FETCH_URL or https://github.com; file:// works)")
    f.set_defaults(func=cmd_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from bench.errors import XlbenchError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except XlbenchError as exc:
        print(f"xlbench: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        print("xlbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `xlbench results | head` closed the pipe: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as the Python docs advise
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
