"""Mutation score of the code that guards data and access: small deliberate bugs are put into
one function at a time, the tests that concern it are run, and a bug they catch is "killed".
Prints the killed share per module and each survivor (file, line, what was changed).

    nice -n 10 .venv/bin/python -m bench.mutation            # every module, one after another
    nice -n 10 .venv/bin/python -m bench.mutation dedupe     # or some, by name

A small AST mutator of our own (mutmut copies the tree and rewrites every function through a
trampoline, which does not sit well with the handler registries and the async fixtures here).
Each mutant runs in a forked child of one process that has imported everything once: the child
compiles the mutated function into its module and points every reference to the old function
(other modules' `from … import`) at it, then runs pytest on the module's tests, stopping at the
first failure. A mutant the tests fail on, or that runs past the time limit, is killed. Not in
test.sh: it takes minutes (about 10 on a quiet machine with both databases)."""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import importlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TIME_LIMIT = 300  # seconds a mutant's tests may take before it counts as killed (a hang)


@dataclass(frozen=True)
class Target:
    name: str
    module: str
    functions: tuple[str, ...]  # top-level functions to mutate; () for all of them
    tests: tuple[str, ...]  # pytest arguments: the tests that concern it


TARGETS = (
    Target("dedupe", "storage.dedupe", (),
           ("tests/test_dedupe.py", "tests/test_retries.py", "-k",
            "not (test_a_teams or rsvp or form or cpd or meeting)")),
    Target("outbox claim", "storage.outbox",
           ("_claimable", "claim_due", "_guarded", "_guarded_update", "renew", "mark_sent"),
           ("tests/test_outbox_claim.py", "tests/test_outbox.py", "tests/test_crash_window.py")),
    Target("membership", "handlers.lookup",
           ("_known_membership", "membership", "require_member", "require_lead"),
           ("tests/test_membership_rule.py", "tests/test_access.py",
            "tests/test_partnership_commands.py", "-k", "sqlite")),
    Target("walk-note privacy", "handlers.walk", ("_channel_note",),
           ("tests/test_note_privacy.py", "tests/test_walks.py", "-k", "sqlite")),
    Target("channel-note", "handlers.logbook", ("note_for_channels",),
           ("tests/test_note_privacy.py", "tests/test_learning_slack.py", "tests/test_walks.py",
            "-k", "sqlite")),
    Target("signature", "bot.server", ("_slack_timestamp_is_plain", "slack_events"),
           ("tests/test_fuzz_http.py", "tests/test_slack_http.py", "-k",
            "sqlite and not random")),
    Target("date reader", "handlers.dates", (),
           ("tests/test_dates.py", "tests/test_parsing.py")),
)

SWAPS: dict[type[ast.AST], type[Any]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
    ast.GtE: ast.Gt, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.And: ast.Or, ast.Or: ast.And, ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div,
    ast.Div: ast.Mult,
}


@dataclass
class Mutant:
    function: str
    line: int
    change: str


@dataclass
class Sites(ast.NodeTransformer):
    """Counts the places a mutation can go; with `apply` set, makes the one numbered so."""

    apply: int | None = None
    found: list[Mutant] = field(default_factory=list)
    function: str = ""

    def _site(self, node: ast.AST, change: str) -> bool:
        self.found.append(Mutant(self.function, getattr(node, "lineno", 0), change))
        return len(self.found) - 1 == self.apply

    def generic_visit(self, node: ast.AST) -> ast.AST:
        mutated = self._mutate(node)
        if mutated is not node:
            return mutated
        return super().generic_visit(node)

    def _mutate(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                swap = SWAPS.get(type(op))
                if swap and self._site(node, f"{type(op).__name__} -> {swap.__name__}"):
                    node.ops[i] = swap()
        elif isinstance(node, ast.BoolOp):
            swap = SWAPS[type(node.op)]
            if self._site(node, f"{type(node.op).__name__} -> {swap.__name__}"):
                node.op = swap()
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            if self._site(node, "not dropped"):
                return node.operand
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in SWAPS:
            swap = SWAPS[type(node.op)]
            if self._site(node, f"{type(node.op).__name__} -> {swap.__name__}"):
                node.op = swap()
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            if self._site(node, f"{node.value} -> {not node.value}"):
                return ast.copy_location(ast.Constant(not node.value), node)
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            if self._site(node, f"{node.value} -> {node.value + 1}"):
                return ast.copy_location(ast.Constant(node.value + 1), node)
        elif isinstance(node, ast.If):
            if self._site(node, "if condition negated"):
                node.test = ast.UnaryOp(ast.Not(), node.test)
        elif isinstance(node, ast.Raise):
            if self._site(node, "raise removed"):
                return ast.copy_location(ast.Pass(), node)
        elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
            if self._site(node, "call removed"):
                return ast.copy_location(ast.Pass(), node)
        elif isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None) \
                and self._site(node, "returns None"):
            return ast.copy_location(ast.Return(ast.Constant(None)), node)
        return node


def functions_of(tree: ast.Module, wanted: tuple[str, ...]) -> Iterator[ast.AST]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                not wanted or node.name in wanted) and not _registers(node):
            yield node


def _registers(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Decorated to register a handler (run again, it would be declared twice): left alone."""
    return any(not (isinstance(d, ast.Name) and d.id in ("cache", "lru_cache"))
               for d in node.decorator_list)


def mutants_of(tree: ast.Module, wanted: tuple[str, ...]) -> list[Mutant]:
    sites = Sites()
    for function in functions_of(tree, wanted):
        sites.function = function.name  # type: ignore[attr-defined]
        sites.visit(copy.deepcopy(function))
    return sites.found


def mutated_function(tree: ast.Module, wanted: tuple[str, ...], n: int) -> ast.Module:
    """The one function holding mutant `n`, mutated, as a module of its own."""
    sites = Sites(apply=n)
    for function in functions_of(tree, wanted):
        sites.function = function.name  # type: ignore[attr-defined]
        before = len(sites.found)
        changed = sites.visit(copy.deepcopy(function))
        if before <= n < len(sites.found):
            return ast.fix_missing_locations(ast.Module(body=[changed], type_ignores=[]))
    raise IndexError(n)


def install(module: ModuleType, code: ast.Module) -> None:
    """Compile the mutated function into its module, and point every reference to the old one
    (other modules' `from … import` of it) at the new."""
    name = code.body[0].name  # type: ignore[attr-defined]
    old = getattr(module, name)
    exec(compile(code, module.__file__ or module.__name__, "exec"), module.__dict__)
    new = getattr(module, name)
    for other in list(sys.modules.values()):
        for attr, value in list(getattr(other, "__dict__", {}).items()):
            if value is old:
                setattr(other, attr, new)
    if isinstance(old, FunctionType) and isinstance(new, FunctionType):
        with contextlib.suppress(ValueError):  # (a closure of another shape: left as is)
            old.__code__ = new.__code__  # for registries that kept the old object


def run_mutant(module: ModuleType, code: ast.Module, tests: tuple[str, ...]) -> str:
    """'killed', 'survived' or 'timeout', from a forked child running the tests."""
    pid = os.fork()
    if pid == 0:  # the child
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        signal.alarm(TIME_LIMIT)
        import pytest
        install(module, code)
        status = pytest.main(["-q", "-x", "-p", "no:cacheprovider", *tests])
        os._exit(int(status))
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return "timeout" if os.WTERMSIG(status) == signal.SIGALRM else "killed"
    code_ = os.WEXITSTATUS(status)
    if code_ == 0:
        return "survived"
    if code_ in (4, 5):
        raise RuntimeError(f"the tests {tests} could not be run (pytest exit {code_})")
    return "killed"


def baseline(tests: tuple[str, ...]) -> None:
    pid = os.fork()
    if pid == 0:
        import pytest
        os._exit(int(pytest.main(["-q", "-x", "-p", "no:cacheprovider", *tests])))
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise SystemExit(f"the tests fail without any mutant: {' '.join(tests)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="modules by name (default: all): "
                        + ", ".join(t.name.split()[0] for t in TARGETS))
    parser.add_argument("--every", type=int, default=1, metavar="N",
                        help="try only every Nth mutant of each module (a quicker estimate)")
    args = parser.parse_args()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    import tests.conftest  # noqa: F401  (imported once, before forking: each child is quick)

    chosen = [t for t in TARGETS if not args.only or t.name.split()[0] in args.only]
    summary = []
    for target in chosen:
        module = importlib.import_module(target.module)
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        tree = ast.parse(source)
        numbered = list(enumerate(mutants_of(tree, target.functions)))[::args.every]
        print(f"== {target.name}: {target.module} "
              f"({', '.join(target.functions) or 'every function'}), {len(numbered)} mutants; "
              f"tests: {' '.join(target.tests)}", flush=True)
        baseline(target.tests)
        started = time.monotonic()
        killed = 0
        for n, mutant in numbered:
            result = run_mutant(module, mutated_function(tree, target.functions, n),
                                target.tests)
            if result == "survived":
                print(f"  survived: {target.module}:{mutant.line} in {mutant.function}: "
                      f"{mutant.change}", flush=True)
            else:
                killed += 1
        share = killed / len(numbered) if numbered else 1.0
        summary.append((target.name, killed, len(numbered), share))
        print(f"   {target.name}: {killed}/{len(numbered)} killed ({share:.0%}) in "
              f"{time.monotonic() - started:.0f} s", flush=True)
    print("\nmodule                killed   share")
    for name, killed, total, share in summary:
        print(f"{name:<20} {killed:>4}/{total:<4} {share:>6.0%}")


if __name__ == "__main__":
    main()
