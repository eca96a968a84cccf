"""Django's test labels and test options, said in pytest's terms (no Django import)."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

ACCEPTED = (
    "a dotted name under the project root (tests.backtesting, "
    "tests.backtesting.test_engine, tests.x.test_mod.TestCase.test_method, "
    "tests.x.test_mod.test_function) or a path or pytest node id "
    "(tests/backtesting, tests/x/test_mod.py::test_function)"
)


class UnusableTestArgument(ValueError):
    """A label or option `manage.py test` cannot hand to pytest; its text is one line."""


def pytest_targets(labels: Iterable[str], root: Path) -> list[str]:
    return [pytest_target(label, root) for label in labels]


def pytest_target(label: str, root: Path) -> str:
    """The pytest argument for one Django test label, resolved against files under root.

    tests.backtesting -> tests/backtesting; tests.x.test_mod -> tests/x/test_mod.py;
    tests.x.test_mod.TestCase.test_method -> tests/x/test_mod.py::TestCase::test_method.
    A path or a node id is returned as it is (pytest says if it does not exist).
    """
    if label.startswith("-"):
        # What argparse leaves of `manage.py test -- -x`: it drops the "--" and
        # refuses it after an option, so pytest options cannot come that way.
        raise UnusableTestArgument(
            f"{label!r} is not a test label: pytest options cannot follow '--' "
            f"(Django's parser drops it); set PYTEST_ADDOPTS='{label} ...' instead"
        )
    if "/" in label or "::" in label or (root / label).exists():
        return label
    parts = label.split(".")
    missing = ""
    if all(part.isidentifier() for part in parts):
        for count in range(len(parts), 0, -1):
            location = root.joinpath(*parts[:count])
            inside = parts[count:]
            if not inside and location.is_dir():
                return location.relative_to(root).as_posix()
            module = location.with_suffix(".py")
            if module.is_file():
                path = module.relative_to(root).as_posix()
                if _defines(module, inside[:1]):
                    return "::".join([path, *inside])
                missing = missing or f" ({path} defines no {inside[0]!r})"
    raise UnusableTestArgument(
        f"Unknown test label {label!r}{missing}: give {ACCEPTED}"
    )


def _defines(module: Path, names: Sequence[str]) -> bool:
    """Whether the module binds the first name after it at its top level.

    Only the class or function is looked up: a test method may come from a base
    class elsewhere, and pytest names a missing one itself.
    """
    if not names:
        return True
    try:
        tree = ast.parse(module.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return True  # pytest's collection error says more than a guess here
    bound: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return True
                bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound.update(t.id for t in targets if isinstance(t, ast.Name))
    return names[0] in bound


def keyword_expression(patterns: Sequence[str]) -> str:
    """pytest -k for Django's -k patterns; several match when any one does, as in
    Django."""
    for pattern in patterns:
        if "*" in pattern:
            raise UnusableTestArgument(
                f"-k {pattern!r}: pytest -k matches substrings of test, class and "
                "module names (with and/or/not), not * wildcards; drop the *"
            )
    if len(patterns) == 1:
        return patterns[0]
    return " or ".join(f"({pattern})" for pattern in patterns)


def marker_expression(
    tags: Sequence[str], exclude_tags: Sequence[str], markers: Sequence[str]
) -> str:
    """pytest -m for Django's --tag and --exclude-tag.

    As in Django, a test runs when it has any of the tags and none of the excluded.
    Only registered markers are taken: pytest -m with an unknown name selects
    nothing and would look like an empty suite.
    """
    for tag in [*tags, *exclude_tags]:
        if tag not in markers:
            raise UnusableTestArgument(
                f"Unknown tag {tag!r}: --tag and --exclude-tag take one of the "
                f"pytest markers in pyproject.toml: {', '.join(markers)}"
            )
    parts = []
    if tags:
        parts.append(tags[0] if len(tags) == 1 else f"({' or '.join(tags)})")
    parts.extend(f"not {tag}" for tag in exclude_tags)
    return " and ".join(parts)


def registered_markers(pyproject: Path) -> list[str]:
    """The marker names of [tool.pytest.ini_options] markers ("name: what it means")."""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    lines = config.get("tool", {}).get("pytest", {}).get("ini_options", {})
    return [line.split(":")[0].strip() for line in lines.get("markers", [])]
