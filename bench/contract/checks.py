"""The method contract (docs/architecture.md, "Methods: the contract") as runnable checks.

``xlbench check NAME`` and the test-suite run these over a method class, offline, in
seconds: the tiny synthetic tasks (:data:`TASK_CONFIGS`) on a small n-gram backbone
(:data:`NGRAM_CONFIG`). Each check is a function ``(Harness) -> (status, reason)``:

* ``config``       Config is a frozen dataclass, every field defaulted, asdict round-trips,
                   and the defaults pass preflight's type and range checks;
* ``role``         the class declares its role: transfer, meta or trivial;
* ``kinds``        declared kinds are a non-empty subset of :data:`bench.types.KINDS`;
* ``construction`` ``__init__`` stores only: no model built, under 0.5 s;
* ``budget``       source training spends <= cap, stops within one step of it (or spends
                   nothing), the meter's record is consistent, nothing changes after a
                   refused step;
* ``weights``      parameters change only when budget was spent (cap 0: unchanged), and
                   spending budget changes them;
* ``predictions``  one prediction per query, of the kind's type (label in range / text);
* ``isolation``    predict A, B, A: the second A equals the first; predict leaves state alone;
* ``determinism``  two fresh instances with the same seed predict the same;
* ``targets``      queries carry no targets; the predictions do not change when the gold
                   held beside the queries (where the runner holds it, reachable by
                   introspection) is altered, nor when the query ids are made opaque;
* ``adapt-budget`` predict spends <= the adapt cap, also a tiny one.

The harness (meters, episodes, trained instances) lives in :mod:`bench.contract.harness`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

from bench.contract.harness import (
    NGRAM_CONFIG,
    TASK_CONFIGS,
    Harness,
    Outcome,
    changed_names,
    describe_error,
)
from bench.errors import XlbenchError
from bench.types import KINDS, EvalEpisode, Prediction, Query, TaskKind

Status = Literal["PASS", "FAIL", "SKIP"]
CheckFn = Callable[[Harness], tuple[Status, str]]


@dataclass(frozen=True)
class CheckResult:
    """One line of ``xlbench check``: which check, on which task, and why."""

    check: str
    task: str  # "-" for checks of the class itself
    status: Status
    reason: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.check:<12} {self.task:<12} {self.reason}"


# --- checks of the class ---------------------------------------------------------------


def check_config(cls: type) -> tuple[Status, str]:
    config: Any = getattr(cls, "Config", None)
    if not (isinstance(config, type) and dataclasses.is_dataclass(config)):
        return "FAIL", f"{cls.__name__}.Config must be a dataclass (got {config!r}); see bench/method.py"
    params = getattr(config, "__dataclass_params__", None)
    if not getattr(params, "frozen", False):
        return "FAIL", f"{config.__name__} is not frozen: use @dataclass(frozen=True)"
    missing = [f.name for f in dataclasses.fields(config)
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        return "FAIL", f"{config.__name__} field(s) without a default: {', '.join(missing)} (every field needs one)"
    try:
        built = config()
        again = config(**dataclasses.asdict(built))
    except Exception as exc:
        return "FAIL", f"{config.__name__}() or {config.__name__}(**asdict(...)) raised {describe_error(exc)}"
    if again != built:
        return "FAIL", f"{config.__name__}(**asdict(c)) != c: a field does not round-trip (nested dataclass?)"
    from bench.configcheck import problems

    wrong = problems(config, {f.name: getattr(built, f.name) for f in dataclasses.fields(built)})
    if wrong:
        return "FAIL", (f"{config.__name__}'s own defaults fail preflight's checks: {'; '.join(wrong)} "
                        "(fix the annotation, the default or its bounded(...) range)")
    try:
        first = dataclasses.fields(built)[0].name if dataclasses.fields(built) else None
        if first is not None:
            setattr(built, first, getattr(built, first))
            return "FAIL", f"{config.__name__} instances can be modified (setattr worked)"
    except dataclasses.FrozenInstanceError:
        pass
    return "PASS", f"{config.__name__}: {len(dataclasses.fields(config))} defaulted field(s), frozen, round-trips"


def check_role(cls: type) -> tuple[Status, str]:
    from bench.method import method_role

    try:
        return "PASS", f"role: {method_role(cls)}"
    except XlbenchError as exc:
        return "FAIL", str(exc)


def check_kinds(cls: type) -> tuple[Status, str]:
    kinds = getattr(cls, "kinds", None)
    if not isinstance(kinds, (frozenset, set, tuple, list)) or not kinds:
        return "FAIL", f"{cls.__name__}.kinds must be a non-empty frozenset of {list(KINDS)}, got {kinds!r}"
    bad = sorted(set(kinds) - set(KINDS))
    if bad:
        return "FAIL", f"{cls.__name__}.kinds has unknown kind(s) {bad}; valid: {list(KINDS)}"
    return "PASS", f"kinds: {', '.join(k for k in KINDS if k in kinds)}"


# --- checks on one task ----------------------------------------------------------------


def check_construction(h: Harness) -> tuple[Status, str]:
    start = time.perf_counter()
    inst = h.fresh()
    seconds = time.perf_counter() - start
    if inst.built:
        return "FAIL", "__init__ called model_factory(): build the model in train() or load_state(), not in __init__"
    if seconds > 0.5:
        return "FAIL", f"__init__ took {seconds:.2f} s (> 0.5 s): store the arguments only"
    return "PASS", f"stores only ({seconds * 1000:.1f} ms, no model built)"


def check_budget(h: Harness) -> tuple[Status, str]:
    run = h.trained("a")
    if run.error:
        return "FAIL", f"train() raised {run.error}"
    m = run.meter
    if m.examples > m.cap:
        return "FAIL", f"spent {m.examples} > cap {m.cap}"
    if m.examples != m.accepted_examples or m.steps != m.accepted_steps:
        return "FAIL", (f"the meter says {m.examples} examples in {m.steps} steps, but step() accepted "
                        f"{m.accepted_examples} in {m.accepted_steps}: do not edit the meter, call meter.step()")
    if (m.steps > 0) != (m.examples > 0):
        return "FAIL", f"{m.steps} steps but {m.examples} examples: steps > 0 iff examples > 0"
    if run.after_refusal:
        return "FAIL", (f"parameters {run.after_refusal[:3]} changed after meter.step() raised BudgetExhausted: "
                        "training went on past the budget (stop at BudgetExhausted)")
    if m.examples == 0:
        return "PASS", f"spends nothing of {m.cap} (a method that does not train)"
    gap = m.cap - m.examples
    if gap and not m.refusals and gap >= m.largest_step:
        return "FAIL", (f"stopped at {m.examples} of {m.cap} ({gap} left, largest step {m.largest_step}): "
                        "train until the meter refuses a step (BudgetExhausted)")
    return "PASS", f"spent {m.examples}/{m.cap} in {m.steps} steps (largest {m.largest_step})"


def check_weights(h: Harness) -> tuple[Status, str]:
    zero, full = h.trained("zero"), h.trained("a")
    for run in (zero, full):
        if run.error:
            return "FAIL", f"train(cap={run.meter.cap}) raised {run.error}"
    moved = zero.models_changed()
    if moved:
        return "FAIL", f"with a cap of 0, parameters {moved[:3]} changed: training without spending budget"
    if zero.state is None or full.state is None:
        return "SKIP", "state() is not implemented (no checkpoint cache); cap-0 model unchanged"
    diff = changed_names(zero.state, full.state)
    spent = full.meter.examples
    if spent == 0 and diff:
        return "FAIL", f"spent nothing but state() tensors {diff[:3]} differ from the cap-0 run"
    if spent > 0 and not diff and not full.models_changed():
        return "FAIL", f"spent {spent} examples but no parameter changed (a budget spent must train)"
    if spent == 0:
        return "PASS", "spends nothing and changes nothing"
    return "PASS", f"cap 0: unchanged; {spent} spent: {len(diff)} state tensor(s) changed"


def _validate(preds: object, episode: EvalEpisode, kind: TaskKind, num_labels: int) -> str | None:
    if not isinstance(preds, list):
        return f"predict() must return a list of Prediction, got {type(preds).__name__}"
    if len(preds) != len(episode.query):
        return f"{len(preds)} predictions for {len(episode.query)} queries (one per query)"
    for i, p in enumerate(preds):
        if not isinstance(p, Prediction):
            return f"prediction {i} is {type(p).__name__}, not bench.types.Prediction"
        if kind == "classification":
            if isinstance(p.label, bool) or not isinstance(p.label, int) or not 0 <= p.label < num_labels:
                return f"prediction {i}: label must be an int in [0, {num_labels}), got {p.label!r}"
        elif not isinstance(p.text, str):
            return f"prediction {i}: {kind} needs text (str), got {p.text!r}"
    return None


def check_predictions(h: Harness) -> tuple[Status, str]:
    episodes = [h.episode("a")] + ([h.episode("zero-shot")] if h.method_cls.zero_shot else [])
    counts = []
    for ep in episodes:
        out = h.predict("a", ep)
        if out.error:
            return "FAIL", f"predict(K={ep.shots}) raised {out.error}"
        problem = _validate(out.preds, ep, h.info.kind, h.info.num_labels)
        if problem:
            return "FAIL", f"K={ep.shots}: {problem}"
        counts.append(f"K={ep.shots}: {len(ep.query)}")
    return "PASS", f"one valid prediction per query ({', '.join(counts)})"


def check_isolation(h: Harness) -> tuple[Status, str]:
    run = h.trained("a")
    if run.error:
        return "FAIL", f"train() raised {run.error}"
    first = h.predict("a", h.episode("a"))
    second = h.predict("a", h.episode("b"))
    third = h.predict("a", h.episode("a"))
    for name, out in (("A", first), ("B", second), ("A again", third)):
        if out.error:
            return "FAIL", f"predict({name}) raised {out.error}"
    if first.preds != third.preds:
        n = sum(x != y for x, y in zip(first.preds or [], third.preds or []))
        return "FAIL", (f"episode A predicted differently after episode B ({n} of {len(first.preds or [])} "
                        "changed): state carried over between episodes")
    after = h.state_now("a")
    if run.state is not None and after is not None:
        diff = changed_names(run.state, after)
        if diff:
            return "FAIL", f"predict() changed the trained state {diff[:3]}: adapt a copy"
    return "PASS", "A, B, A: identical predictions for A; trained state untouched"


def check_determinism(h: Harness) -> tuple[Status, str]:
    for tag in ("a", "a2"):
        if h.trained(tag).error:
            return "FAIL", f"train() raised {h.trained(tag).error}"
    one, two = h.predict("a", h.episode("a")), h.predict("a2", h.episode("a"))
    if one.error or two.error:
        return "FAIL", f"predict() raised {one.error or two.error}"
    if one.preds != two.preds:
        n = sum(x != y for x, y in zip(one.preds or [], two.preds or []))
        return "FAIL", (f"two instances with the same seed disagree on {n} of {len(one.preds or [])} queries: "
                        "draw randomness from self.rng / seeded torch.Generator only")
    return "PASS", "same seed, same predictions"


def check_targets(h: Harness) -> tuple[Status, str]:
    ep = h.episode("a")
    bad = [i for i, q in enumerate(ep.query) if type(q) is not Query]
    if bad:
        return "FAIL", f"harness error: query {bad[0]} is not a Query"
    base = h.predict("a", ep)
    regold = h.predict("a", h.episode("regold"))
    opaque = h.predict("a", h.episode("opaque"))
    for name, out in (("original", base), ("altered gold", regold), ("opaque ids", opaque)):
        if out.error:
            return "FAIL", f"predict({name}) raised {out.error}"
    if regold.preds != base.preds:
        n = sum(x != y for x, y in zip(base.preds or [], regold.preds or []))
        return "FAIL", (f"{n} of {len(base.preds or [])} predictions changed when only the gold held beside "
                        "the queries changed (the queries were equal): the method reads gold (e.g. from the "
                        "caller's frames or gc referrers); predict from episode.support and episode.query only")
    if opaque.preds != base.preds:
        return "FAIL", ("predictions changed when the query item ids were replaced by opaque ids: "
                        "do not look items up by id (that is how gold leaks)")
    return "PASS", "queries carry no targets; hidden gold and item ids do not change predictions"


def check_adapt_budget(h: Harness) -> tuple[Status, str]:
    spent = []
    for cap in (h.settings.adapt_cap, h.settings.tiny_adapt_cap):
        out = h.predict("a", h.episode("a"), cap=cap)
        if out.error:
            return "FAIL", f"predict(adapt cap {cap}) raised {out.error}"
        m = out.meter
        if m.examples > m.cap or m.examples != m.accepted_examples or m.steps != m.accepted_steps:
            return "FAIL", (f"adapt meter: {m.examples} examples / {m.steps} steps recorded, step() accepted "
                            f"{m.accepted_examples} / {m.accepted_steps}, cap {m.cap}")
        problem = _validate(out.preds, h.episode("a"), h.info.kind, h.info.num_labels)
        if problem:
            return "FAIL", f"adapt cap {cap}: {problem}"
        spent.append(f"{m.examples}/{cap}")
    return "PASS", f"adapt spent {' and '.join(spent)}"


TASK_CHECKS: dict[str, CheckFn] = {
    "construction": check_construction,
    "budget": check_budget,
    "weights": check_weights,
    "predictions": check_predictions,
    "isolation": check_isolation,
    "determinism": check_determinism,
    "targets": check_targets,
    "adapt-budget": check_adapt_budget,
}
CLASS_CHECKS: dict[str, Callable[[type], tuple[Status, str]]] = {
    "config": check_config, "role": check_role, "kinds": check_kinds}
CHECK_TASKS: tuple[str, ...] = tuple(TASK_CONFIGS)


def run_checks(
    method_cls: type,
    tasks: Sequence[str] = CHECK_TASKS,
    config: object | None = None,
    only: Sequence[str] | None = None,
) -> list[CheckResult]:
    """Every contract check of ``method_cls`` (with ``config``, default ``Config()``).

    ``tasks`` are names from :data:`CHECK_TASKS`; a kind the method does not declare is
    reported as SKIP. ``only`` restricts to the named checks. Never raises for a faulty
    method: each fault is a FAIL line with the reason.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one intra-op thread is many times faster (restored below)
    try:
        return _run(method_cls, tasks, config, only)
    finally:
        torch.set_num_threads(threads)


def _run(method_cls: type, tasks: Sequence[str], config: object | None,
         only: Sequence[str] | None) -> list[CheckResult]:
    unknown = sorted(set(tasks) - set(CHECK_TASKS))
    if unknown:
        from bench.errors import UnknownNameError

        raise UnknownNameError(f"check task(s) {unknown} unknown; valid: {', '.join(CHECK_TASKS)}")
    out: list[CheckResult] = []
    for name, fn in CLASS_CHECKS.items():
        if only is None or name in only:
            out.append(CheckResult(name, "-", *_guarded(lambda: fn(method_cls))))  # noqa: B023 (called at once)
    if any(r.status == "FAIL" for r in out) and config is None:
        return out + [CheckResult("task checks", "-", "SKIP", "fix the class checks above first")]
    kinds: frozenset[str] = getattr(method_cls, "kinds", frozenset())
    for task in tasks:
        harness = Harness(method_cls, task, config)
        if harness.info.kind not in kinds:
            out.append(CheckResult("all", task, "SKIP", f"{method_cls.__name__} does not declare {harness.info.kind!r}"))
            continue
        reason = _not_applicable(harness)
        if reason:
            out.append(CheckResult("all", task, "SKIP", f"not applicable: {reason}"))
            continue
        for name, task_fn in TASK_CHECKS.items():
            if only is None or name in only:
                out.append(CheckResult(name, task, *_guarded(lambda: task_fn(harness))))  # noqa: B023 (called at once)
    return out


def _not_applicable(h: Harness) -> str | None:
    """The instance's own n/a verdict (a config may rule a kind out, e.g. TF-IDF for QA)."""
    try:
        method = h.fresh().method
        why_not = getattr(method, "why_not", None) or method.not_applicable
        return why_not(h.info, h.settings.shots)
    except Exception:
        return None  # a broken constructor is reported by the construction check


def _guarded(fn: Callable[[], tuple[Status, str]]) -> tuple[Status, str]:
    try:
        return fn()
    except Exception as exc:  # a check must report a faulty method, not crash on it
        return "FAIL", f"raised {describe_error(exc)}"


def passed(results: Sequence[CheckResult]) -> bool:
    """True when no check failed (SKIPs are not failures)."""
    return all(r.status != "FAIL" for r in results)


def failures(results: Sequence[CheckResult]) -> str:
    """The FAIL lines, for an assertion message."""
    return "\n".join(r.line() for r in results if r.status == "FAIL")


__all__ = ["CheckResult", "run_checks", "passed", "failures", "CHECK_TASKS", "TASK_CONFIGS", "NGRAM_CONFIG",
           "Outcome"]
