"""The package layout holds: stages import only downwards, and only through public names.

Every ``import`` in every module under ``actorbot/`` counts, including those under
``if TYPE_CHECKING:`` and inside functions: a lazy import is still a dependency. Why the
ranks are what they are: docs/architecture.md §8.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "actorbot"

#: Rank of each stage (a top-level module or package of ``actorbot``): a module may import
#: only stages of its own rank or lower.
RANKS = {
    "errors": 0,
    "updates": 1, "seeds": 1, "api": 1,
    "runtime": 2, "journal": 2, "state": 2,
    "sending": 3,
    "handlers": 4,
    "routing": 5,
    "intake": 6,
    "engine": 7,
    "webapp": 8, "monitoring": 8,
    "testing": 9, "compat": 9, "cli": 9,
}  # fmt: skip
#: ``actorbot`` itself re-exports every stage, so importing it ranks as the top.
ROOT_RANK = max(RANKS.values())
#: The front doors: they import whatever they expose.
EXEMPT = {"actorbot/__init__.py", "actorbot/__main__.py"}
STAGE_PACKAGES = [
    "intake", "routing", "handlers", "sending", "runtime", "journal", "state", "engine", "api",
    "webapp", "monitoring", "testing", "compat", "cli",
]  # fmt: skip


class Import(NamedTuple):
    """One imported module or name, as written at ``file:line``."""

    file: str  # relative to the repository, e.g. "actorbot/sending/_facade.py"
    line: int
    target: str  # absolute dotted name, e.g. "actorbot.sending._sender" or "actorbot.x.name"

    def where(self) -> str:
        return f"{self.file}:{self.line}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(path: Path) -> str:
    """The package a module belongs to (a package's ``__init__`` belongs to itself)."""
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _is_module(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _is_package(dotted: str) -> bool:
    return (ROOT.joinpath(*dotted.split(".")) / "__init__.py").is_file()


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(path: Path, source: str | None = None) -> list[Import]:
    """Every ``actorbot`` module or name ``path`` (or ``source`` put there) imports,
    wherever the import statement is.

    ``from pkg import name`` yields ``pkg.name``: a submodule when ``name`` is one, else a
    name defined in (or re-exported by) ``pkg``.
    """
    rel = path.relative_to(ROOT).as_posix()
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=rel)
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(rel, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node, _package_of(path))
            found += [
                Import(rel, node.lineno, module if alias.name == "*" else f"{module}.{alias.name}")
                for alias in node.names
            ]
    return [i for i in found if i.target == "actorbot" or i.target.startswith("actorbot.")]


def _stage(dotted: str) -> str | None:
    """``actorbot.sending._sender`` -> ``sending``; the bare package -> None."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else None


def _rank(dotted: str) -> int:
    stage = _stage(dotted)
    if stage is None or not _is_module(f"actorbot.{stage}"):
        return ROOT_RANK  # the package itself, or a name it defines (__version__)
    if stage not in RANKS:
        raise AssertionError(f"actorbot.{stage} has no rank: add it to RANKS (and the docs)")
    return RANKS[stage]


def _private_owner(target: str) -> str | None:
    """The module or package whose private part ``target`` names, or None if all public."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return ".".join(parts[:i])
    return None


def private_import_error(imp: Import, importer_package: str, importer: str) -> str | None:
    """Rule (a): a private module or name may be imported only from a package whose
    directory holds it (itself or below). ``actorbot/`` itself does not count: the front
    door and the top-level modules use other stages' public names like everyone else,
    and a top-level module's private names are its own."""
    owner = _private_owner(imp.target)
    if owner is None:
        return None
    # Where the private part lives: actorbot.sending for actorbot.sending._sender (and for
    # actorbot.sending._sender._x); actorbot for actorbot.updates._x.
    home = owner if _is_package(owner) else owner.rpartition(".")[0]
    if home == "actorbot":
        allowed = importer == owner
    else:
        allowed = importer_package != "actorbot" and (
            home == importer_package or home.startswith(importer_package + ".")
        )
    if allowed:
        return None
    where = owner if home == "actorbot" else home
    return (
        f"{imp.where()}: imports private {imp.target} from outside {where}: use a public "
        f"name of {where} instead (rule a: private modules and names stay in their package)"
    )


def rank_error(imp: Import, importer: str) -> str | None:
    """Rule (b): a stage of rank r imports only stages of rank <= r."""
    mine, theirs = _rank(importer), _rank(imp.target)
    if theirs <= mine:
        return None
    return (
        f"{imp.where()}: {importer} (rank {mine}) imports {imp.target} (rank {theirs}): "
        f"a stage may import only stages of its own rank or lower (rule b: layering)"
    )


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def violations(rule: str) -> list[str]:
    problems: list[str] = []
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        importer, package = _module_name(path), _package_of(path)
        for imp in imports_of(path):
            if rule == "private":
                problem = private_import_error(imp, package, importer)
            elif rel in EXEMPT:
                continue
            else:
                problem = rank_error(imp, importer)
            if problem:
                problems.append(problem)
    return problems


# ---------------------------------------------------------------- the rules themselves


def _stages() -> set[str]:
    """Top-level modules and packages of ``actorbot`` (private ones and dunders aside)."""
    return {
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if not path.name.startswith("_")
        and (path.suffix == ".py" or (path / "__init__.py").is_file())
    }


def test_every_stage_is_a_package_with_a_rank() -> None:
    missing = [name for name in STAGE_PACKAGES if not (PACKAGE / name / "__init__.py").is_file()]
    assert not missing, f"stage folders missing or not packages: {missing}"
    assert _stages() == set(RANKS), (
        f"actorbot's stages and RANKS differ: unranked {sorted(_stages() - set(RANKS))}, "
        f"ranked but absent {sorted(set(RANKS) - _stages())}"
    )


def test_private_modules_are_imported_only_inside_their_package() -> None:
    problems = violations("private")
    assert not problems, "\n".join(problems)


def test_stages_import_only_stages_of_lower_or_equal_rank() -> None:
    problems = violations("rank")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the checker, checked


@pytest.mark.parametrize(
    ("rel", "source", "expected"),
    [
        ("actorbot/sending/_facade.py", "from ._future import F", "actorbot.sending._future.F"),
        ("actorbot/sending/_facade.py", "from .. import errors", "actorbot.errors"),
        ("actorbot/compat/telepot/loop.py", "from ..._x import y", "actorbot._x.y"),
        ("actorbot/sending/__init__.py", "from . import _sender", "actorbot.sending._sender"),
        ("actorbot/cli/__init__.py", "def f():\n    import actorbot.testing", "actorbot.testing"),
    ],
)  # fmt: skip
def test_relative_and_nested_imports_are_resolved(rel: str, source: str, expected: str) -> None:
    assert [i.target for i in imports_of(ROOT / rel, source)] == [expected]


@pytest.mark.parametrize(
    ("importer", "target", "broken"),
    [
        ("actorbot/engine/_engine.py", "actorbot.sending._sender.Sender", True),
        ("actorbot/engine/_engine.py", "actorbot.sending.Sender", False),
        ("actorbot/sending/_facade.py", "actorbot.sending._sender.Sender", False),
        ("actorbot/sending/_facade.py", "actorbot.sending._sender._private", False),
        ("actorbot/handlers/_handler.py", "actorbot.updates._SPEC", True),
        ("actorbot/updates.py", "actorbot.updates._SPEC", False),
        ("actorbot/__init__.py", "actorbot.sending._sender.Sender", True),
        ("actorbot/compat/telepot/namedtuple.py", "actorbot.compat.telepot._types.TYPES", False),
        ("actorbot/compat/__init__.py", "actorbot.compat.telepot._types.TYPES", False),  # below
        ("actorbot/compat/telepot/loop.py", "actorbot.compat._shared.x", True),  # above
        ("actorbot/sending/_facade.py", "actorbot.sending._impl._deep.x", False),
        ("actorbot/seeds.py", "actorbot.updates._compiled", True),
        ("actorbot/cli/_run.py", "actorbot.api.__version__", False),  # dunder: public
    ],
)
def test_private_rule(importer: str, target: str, broken: bool) -> None:
    path = ROOT / importer
    problem = private_import_error(
        Import(importer, 7, target), _package_of(path), _module_name(path)
    )
    assert (problem is not None) == broken, problem
    if problem:
        assert problem.startswith(f"{importer}:7: imports private {target}")
        assert "rule a" in problem


@pytest.mark.parametrize(
    ("importer", "target", "broken"),
    [
        ("actorbot/handlers/_handler.py", "actorbot.routing.AccessList", True),
        ("actorbot/routing/_router.py", "actorbot.handlers.Handler", False),
        ("actorbot/errors.py", "actorbot.api.Client", True),
        ("actorbot/api/_client.py", "actorbot.errors.ApiError", False),
        ("actorbot/webapp/_initdata.py", "actorbot.monitoring.x", False),  # same rank
        ("actorbot/engine/_engine.py", "actorbot.__version__", True),  # the front door
        ("actorbot/cli/__init__.py", "actorbot.__version__", False),
    ],
)
def test_rank_rule(importer: str, target: str, broken: bool) -> None:
    module = _module_name(ROOT / importer)
    problem = rank_error(Import(importer, 3, target), module)
    assert (problem is not None) == broken, problem
    if problem:
        assert problem.startswith(f"{importer}:3: {module} (rank ")
        assert "rule b" in problem
