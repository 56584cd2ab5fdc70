"""Mutants of the reference solutions, for `grade selfcheck --mutate`: the holes hand-picked fixtures miss.

A mutant is a reference module (`solutions/NAME.py`) with one small change inside one solution region,
between `# BEGIN SOLUTION` and `# END SOLUTION`: the only code a learner writes. Each operator below
maps an AST node of a region to the nodes that may take its place (an operator swapped, a term
dropped, an axis or a transpose, an off-by-one in a slice, an index or a range, a constant changed, a
call, a keyword or a statement left out). The node's own characters in the file are replaced by the
new node's text, so the rest of the file stays byte for byte the reference; the result is parsed back
and must be exactly the intended tree (`splice`), parenthesised where precedence asks for it.

A mutant's id, `exercise:function:operator:digest`, hashes the line it changes and what it becomes, so
it survives edits elsewhere in the file (a docstring that grows moves every line number):
`tests/fixtures/equivalent_mutants.toml` names the mutants that no check can tell from the reference.

Why not a mutation library: mutmut 3 and cosmic-ray are runners built around a project's own pytest
run (mutmut's trampolines over whole modules, cosmic-ray's session database of parso trees); neither
gives "the mutants of these lines as source text" to grade as a submission, nor numpy's axes and
transposes. The operator names follow theirs where they overlap.
"""

import ast
import copy
import fnmatch
import hashlib
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from grader.authoring.regions import solution_regions
from grader.core.config import REPOSITORY
from grader.core.course import exercises as course_exercises

SOLUTIONS = REPOSITORY / "solutions"
DEFAULT_EQUIVALENTS = REPOSITORY / "tests" / "fixtures" / "equivalent_mutants.toml"


@dataclass(frozen=True)
class Mutant:
    id: str
    exercise: str
    function: str
    operator: str
    line: int  # in solutions/EXERCISE.py, 1-based
    original: str  # the changed line(s) of the reference, stripped and joined
    mutated: str  # what they become
    source: str  # the whole mutated module


@dataclass(frozen=True)
class Site:
    """Where a node stands: its function (for the names bound before it) and every node's parent."""

    function: ast.FunctionDef
    parents: dict[ast.AST, ast.AST]


Operator = Callable[[ast.AST, Site], Iterable[ast.AST]]


def changed(node: ast.AST, **fields: Any) -> ast.AST:
    new = copy.deepcopy(node)
    for name, value in fields.items():
        setattr(new, name, value)
    return new


def plus(node: ast.expr, step: int) -> ast.expr:
    """`node + 1` or `node - 1`."""
    return ast.BinOp(copy.deepcopy(node), ast.Add() if step > 0 else ast.Sub(), ast.Constant(1))


ARITHMETIC: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.MatMult: ast.Mult}
COMPARISONS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
# A function called by name (np.NAME, x.NAME, NAME) and the one a slip of the learner's puts in its place.
FUNCTIONS = {"max": "min", "min": "max", "argmax": "argmin", "argmin": "argmax", "sum": "mean", "mean": "sum",
             "zeros": "ones", "ones": "zeros", "empty": "zeros", "sorted": "list", "SimpleRNN": "GRU", "Adam": "SGD"}
AXES = (0, 1, -1)


def arithmetic(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        yield changed(node, op=ARITHMETIC[type(node.op)]())


def drop_term(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        yield copy.deepcopy(node.left)
        yield copy.deepcopy(node.right)


def swap_operands(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult | ast.Sub | ast.Div):
        yield changed(node, left=node.right, right=node.left)


def transpose(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    """Each operand of a matrix product, transposed."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        for side in ("left", "right"):
            operand = getattr(node, side)
            if isinstance(operand, ast.Name | ast.Attribute | ast.Subscript):
                yield changed(node, **{side: ast.Attribute(copy.deepcopy(operand), "T", ast.Load())})


def compare(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARISONS:
        yield changed(node, ops=[COMPARISONS[type(node.ops[0])]()])


def boolean(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    if isinstance(node, ast.BoolOp):
        yield changed(node, op=ast.Or() if isinstance(node.op, ast.And) else ast.And())
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield copy.deepcopy(node.operand)


def in_axis(node: ast.AST, site: Site) -> bool:
    """Part of an `axis=` argument, which the axis operator mutates (into axes, not any number)."""
    return any(isinstance(a, ast.keyword) and a.arg == "axis" for a in ancestors(node, site.parents))


def sign(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not in_axis(node, site):
        yield copy.deepcopy(node.operand)


def constant(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    if not isinstance(node, ast.Constant) or in_axis(node, site):
        return
    value = node.value
    if isinstance(value, bool):
        yield ast.Constant(not value)
    elif isinstance(value, int):
        yield ast.Constant(value + 1)
        yield ast.Constant(value - 1)
    elif isinstance(value, float):
        yield from (ast.Constant(v) for v in ((1.0,) if value == 0 else (0.0, 2 * value)))


def int_value(node: ast.expr) -> int | None:
    """The int that `node` writes (`1`, `-1`), or None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = int_value(node.operand)
        return None if inner is None else -inner
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def axis(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    """Another `axis=`, and the indices of a subscript in another order (`x[:, t]` -> `x[t, :]`)."""
    if isinstance(node, ast.keyword) and node.arg == "axis" and int_value(node.value) is not None:
        yield from (ast.keyword("axis", ast.Constant(a)) for a in AXES if a != int_value(node.value))
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
        elements = node.slice.elts
        for i in range(len(elements) - 1):
            swapped = [*elements[:i], elements[i + 1], elements[i], *elements[i + 2:]]
            yield changed(node, slice=ast.Tuple(swapped, ast.Load()))


def off_by_one(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    """A slice's bounds, `range`'s arguments and a subscript's names, each one more and one less."""
    if isinstance(node, ast.Slice):
        for bound in ("lower", "upper"):
            if getattr(node, bound) is not None:
                yield from (changed(node, **{bound: plus(getattr(node, bound), s)}) for s in (1, -1))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        for i, arg in enumerate(node.args):
            yield from (changed(node, args=[*node.args[:i], plus(arg, s), *node.args[i + 1:]]) for s in (1, -1))
    if isinstance(node, ast.Subscript):
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        for i, element in enumerate(elements):
            if isinstance(element, ast.Name):
                for s in (1, -1):
                    moved = [*elements[:i], plus(element, s), *elements[i + 1:]]
                    yield changed(node, slice=ast.Tuple(moved, ast.Load()) if len(moved) > 1 else moved[0])


def drop_call(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    """`f(x)` -> `x`, where the result is used (as a statement of its own, leaving it out is drop-statement)."""
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords and \
            not isinstance(node.args[0], ast.Starred) and not isinstance(site.parents.get(node), ast.Expr):
        yield copy.deepcopy(node.args[0])


def drop_keyword(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    if isinstance(node, ast.Call):
        for i, keyword in enumerate(node.keywords):
            if keyword.arg is not None:
                yield changed(node, keywords=[*node.keywords[:i], *node.keywords[i + 1:]])


def swap_name(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    if not isinstance(node, ast.Call):
        return
    if isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        yield changed(node, func=ast.Name(FUNCTIONS[node.func.id], ast.Load()))
    elif isinstance(node.func, ast.Attribute) and node.func.attr in FUNCTIONS:
        yield changed(node, func=changed(node.func, attr=FUNCTIONS[node.func.attr]))


def bound_before(function: ast.FunctionDef, line: int) -> set[str]:
    """The names `function` binds before `line`: its parameters and earlier assignments."""
    names = {a.arg for a in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]}
    return names | {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
                    and n.lineno < line}


def drop_statement(node: ast.AST, site: Site) -> Iterator[ast.AST]:
    """A simple statement left out (`pass` in its place), but a `return`, and an assignment that binds
    a name for the first time (the next use would only raise NameError)."""
    if not isinstance(node, ast.stmt) or isinstance(node, ast.Return) or hasattr(node, "body"):
        return
    if isinstance(node, ast.Assign):
        names = {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        if names - bound_before(site.function, node.lineno):
            return
    yield ast.Pass()


OPERATORS: dict[str, Operator] = {
    "arithmetic": arithmetic, "drop-term": drop_term, "swap-operands": swap_operands, "transpose": transpose,
    "compare": compare, "boolean": boolean, "sign": sign, "constant": constant, "axis": axis, "off-by-one": off_by_one,
    "drop-call": drop_call, "drop-keyword": drop_keyword, "swap-name": swap_name, "drop-statement": drop_statement,
}


def parent_map(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def normal_dump(tree: ast.AST) -> str:
    """The tree as the parser gives it (nodes built here lack fields the parser fills in)."""
    return ast.dump(ast.parse(ast.unparse(tree)))


def replaced_dump(tree: ast.Module, parent: ast.AST, old: ast.AST, new: ast.AST) -> str:
    """normal_dump of `tree` with `old`, a child of `parent`, replaced by `new` (tree is left as it was)."""
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            try:
                return normal_dump(tree)
            finally:
                setattr(parent, name, old)
        if isinstance(value, list) and any(v is old for v in value):
            index = next(i for i, v in enumerate(value) if v is old)
            value[index] = new
            try:
                return normal_dump(tree)
            finally:
                value[index] = old
    raise ValueError(f"{ast.dump(old)} is not a child of {ast.dump(parent)}")


def splice(source: str, node: ast.AST, text: str) -> tuple[str, str, str]:
    """`source` with `node`'s characters replaced by `text`; and the changed lines, before and after."""
    lines = source.splitlines(keepends=True)
    first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
    before = lines[first].encode()[:node.col_offset].decode()  # type: ignore[attr-defined]
    after = lines[last].encode()[node.end_col_offset:].decode()  # type: ignore[attr-defined]
    original = " ".join(line.strip() for line in lines[first:last + 1])
    return "".join([*lines[:first], before, text, after, *lines[last + 1:]]), original, (before + text + after).strip()


def digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:8]


def mutants_of(source: str, exercise: str) -> list[Mutant]:
    """Every mutant of the solution regions of `source` (the module `exercise`), in source order; the same
    source gives the same mutants and ids."""
    tree = ast.parse(source)
    parents = parent_map(tree)
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    reference = normal_dump(tree)
    found: dict[str, Mutant] = {}  # by mutated source: two ways to the same module are one mutant
    for begin, end, name in solution_regions(source):
        site = Site(functions[name], parents)
        # 0-based marker lines: a node inside lies on 1-based lines begin + 2 .. end
        inside = [n for n in ast.walk(site.function) if isinstance(n, ast.expr | ast.stmt | ast.keyword | ast.Slice)
                  and begin + 2 <= n.lineno and n.end_lineno is not None and n.end_lineno <= end]
        for node in sorted(inside, key=source_order):
            if any(isinstance(a, ast.JoinedStr) for a in ancestors(node, parents)):
                continue  # an f-string's parts: the error message's wording is not graded
            for operator, mutations in OPERATORS.items():
                for new in mutations(node, site):
                    mutant = mutant_of(source, tree, site, reference, node, new, exercise, operator)
                    if mutant is not None and mutant.source not in found:
                        found[mutant.source] = mutant
    return numbered(list(found.values()))


def numbered(mutants: list[Mutant]) -> list[Mutant]:
    """`mutants` with the second and later of those sharing an id (the same change to two identical lines
    of one function) numbered `-2`, `-3`, in source order."""
    seen: dict[str, int] = {}
    unique = []
    for mutant in mutants:
        seen[mutant.id] = seen.get(mutant.id, 0) + 1
        unique.append(mutant if seen[mutant.id] == 1 else replace(mutant, id=f"{mutant.id}-{seen[mutant.id]}"))
    return unique


def source_order(node: ast.expr | ast.stmt | ast.keyword | ast.Slice) -> tuple[int, int, int, int]:
    """Where `node` starts, and the outer of two nodes that start together first."""
    return node.lineno, node.col_offset, -(node.end_lineno or 0), -(node.end_col_offset or 0)


def ancestors(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> Iterator[ast.AST]:
    while node in parents:
        node = parents[node]
        yield node


def mutant_of(source: str, tree: ast.Module, site: Site, reference: str, node: ast.AST, new: ast.AST,
              exercise: str, operator: str) -> Mutant | None:
    """The mutant where `new` takes `node`'s place, or None where that changes nothing."""
    expected = replaced_dump(tree, site.parents[node], node, new)
    function = site.function.name
    if expected == reference:
        return None
    text = ast.unparse(new)
    for candidate in (text, f"({text})"):
        mutated, original, line = splice(source, node, candidate)
        try:
            if normal_dump(ast.parse(mutated)) != expected:
                continue
        except SyntaxError:
            continue
        return Mutant(f"{exercise}:{function}:{operator}:{digest(original, line)}", exercise, function, operator,
                      node.lineno, original, line, mutated)  # type: ignore[attr-defined]
    raise ValueError(f"{exercise}.py line {node.lineno}: operator {operator} gives {text!r}, which does not read "  # type: ignore[attr-defined]
                     "back as the intended tree in place; fix mutate.splice or the operator")


# A module that imports one of these trains models: its gradings take seconds each, not one.
SLOW_IMPORTS = {"keras", "tensorflow", "torch"}


def trains(source: str) -> bool:
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    return bool(imported & SLOW_IMPORTS)


def reference_mutants(exercises: Iterable[str] | None = None,
                      solutions: Path = SOLUTIONS) -> dict[str, list[Mutant]]:
    """{exercise: its mutants} for `exercises` (default: the course's), the quick ones first: in the
    course's order, but those that train a model last."""
    course = course_exercises()
    chosen = [e for e in course if exercises is None or e in exercises]
    sources = {exercise: (solutions / f"{exercise}.py").read_text() for exercise in chosen}
    return {exercise: mutants_of(sources[exercise], exercise)
            for exercise in sorted(chosen, key=lambda e: trains(sources[e]))}


def matching(mutants: list[Mutant], patterns: Iterable[str]) -> list[Mutant]:
    """The mutants whose id matches one of `patterns` (fnmatch: `forward:rnn_step:*`, `*:transpose:*`)."""
    patterns = list(patterns)
    return [m for m in mutants if any(fnmatch.fnmatchcase(m.id, p) for p in patterns)]


def sample(mutants: list[Mutant], most: int | None) -> list[Mutant]:
    """At most `most` of `mutants`, spread evenly over them (every function gets its share)."""
    if most is None or len(mutants) <= most:
        return mutants
    return [mutants[i * len(mutants) // most] for i in range(most)]


@dataclass(frozen=True)
class Equivalent:
    """A mutant no check can tell from the reference: what its line becomes, and why it is equivalent."""

    mutated: str
    reason: str


def load_equivalents(path: Path = DEFAULT_EQUIVALENTS) -> dict[str, Equivalent]:
    """{mutant id: its record} from `path`'s `[[equivalent]]` entries; none where there is no such file."""
    if not path.is_file():
        return {}
    with open(path, "rb") as handle:
        entries = tomllib.load(handle).get("equivalent", [])
    records = {}
    for number, entry in enumerate(entries, 1):
        if set(entry) != {"id", "mutated", "reason"} or not all(isinstance(v, str) and v for v in entry.values()):
            raise ValueError(f"{path}: equivalent entry {number} is {entry!r}; write it as "
                             '{id = "...", mutated = "the changed line, as the report shows it", '
                             'reason = "why no learner-visible behaviour differs"}')
        records[entry["id"]] = Equivalent(entry["mutated"], entry["reason"])
    return records


@dataclass
class Outcome:
    """How one exercise's suite did against its mutants."""

    exercise: str
    generated: int = 0
    killed: int = 0
    equivalent: int = 0
    seconds: float = 0.0
    survivors: list[Mutant] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # mutants whose grading failed (counted as killed)

    @property
    def score(self) -> float:
        """Killed over the mutants that can be killed, in percent."""
        killable = self.generated - self.equivalent
        return 100.0 if killable == 0 else 100.0 * self.killed / killable


def killed(report: dict[str, Any]) -> bool:
    """A check scored below full marks (or the grading failed)."""
    return "error" in report or report["score"] < report["max_score"]


def classify(exercise: str, mutants: list[Mutant], reports: dict[str, dict[str, Any]],
             equivalents: dict[str, Equivalent]) -> tuple[Outcome, list[str]]:
    """The outcome of `exercise` from each mutant's report ({mutant id: report}), and the problems with
    the equivalents' record: a mutant marked equivalent that a check kills."""
    outcome = Outcome(exercise, generated=len(mutants))
    problems = []
    for mutant in mutants:
        report = reports[mutant.id]
        if "error" in report:
            outcome.errors.append(f"{mutant.id}: {report['error']}")
        if killed(report):
            outcome.killed += 1
            if mutant.id in equivalents:
                problems.append(f"{mutant.id} is marked equivalent but a check kills it: remove it from the "
                                "equivalents' file")
        elif mutant.id in equivalents:
            outcome.equivalent += 1
        else:
            outcome.survivors.append(mutant)
    return outcome, problems


def stale_equivalents(equivalents: dict[str, Equivalent], generated: Iterable[Mutant],
                      scope: Iterable[str]) -> list[str]:
    """The equivalents' entries, for an exercise in `scope`, that the reference no longer has: no mutant
    has the id, or its changed line is no longer the recorded one. Each must be judged again."""
    mutated = {m.id: m.mutated for m in generated}
    exercises = set(scope)
    return [f"{id_} is marked equivalent but the reference changed: no mutant has that id, or it no longer "
            f"writes {record.mutated!r}; judge the mutant again and update or remove the entry"
            for id_, record in sorted(equivalents.items())
            if id_.split(":")[0] in exercises and mutated.get(id_) != record.mutated]


def outcome_table(outcomes: list[Outcome]) -> Table:
    table = Table(title="Mutation score (killed / (mutants - equivalent))", title_justify="left")
    for column in ("exercise", "mutants", "killed", "survived", "equivalent", "score", "seconds"):
        table.add_column(column, justify="left" if column == "exercise" else "right")
    for o in outcomes:
        table.add_row(o.exercise, str(o.generated), str(o.killed), str(len(o.survivors)), str(o.equivalent),
                      f"{o.score:.1f} %", f"{o.seconds:.0f}")
    return table


def survivor_text(mutant: Mutant) -> Text:
    """A survivor as the report shows it: its id, where, and the line before and after (plain text: the
    code's brackets are not markup)."""
    return Text.assemble((mutant.id, "bold"), f"  solutions/{mutant.exercise}.py:{mutant.line} in {mutant.function}\n",
                         ("    - " + mutant.original, "red"), "\n", ("    + " + mutant.mutated, "green"))


def as_json(outcomes: list[Outcome], problems: list[str], min_score: float) -> dict[str, Any]:
    return {"min_score": min_score, "problems": problems, "exercises": [
        {"exercise": o.exercise, "mutants": o.generated, "killed": o.killed, "survived": len(o.survivors),
         "equivalent": o.equivalent, "score": round(o.score, 2), "seconds": round(o.seconds, 1), "errors": o.errors,
         "survivors": [{k: v for k, v in asdict(m).items() if k != "source"} for m in o.survivors]}
        for o in outcomes]}
