"""House rules that keep the code easy to live in, checked on every file of the app and
the core (docs/architecture.md): no function longer than a screen, and a docstring on
every public function, so a newcomer can read any of them without scrolling or guessing."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 60


def _sources() -> list[Path]:
    return sorted([*ROOT.glob("rnn_core/**/*.py"), *ROOT.glob("apps/**/*.py"), ROOT / "app.py"])


def _functions(tree: ast.AST, prefix: str = "", public: bool = True):
    """(qualified name, node, whether it is public API) of every function in ``tree``;
    nested functions and methods of private classes are not public API."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, node, public and not node.name.startswith("_")
            yield from _functions(node, f"{prefix}{node.name}.", public=False)
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.", public and not node.name.startswith("_"))


def test_the_rules_see_every_module_and_can_fail():
    sources = _sources()
    assert len(sources) > 40 and all(p.exists() for p in sources)
    sample = ast.parse("def f():\n" + "    x = 1\n" * (MAX_LINES + 1) + "class _C:\n    def g(self): pass\n")
    found = {name: (node.end_lineno - node.lineno + 1, public) for name, node, public in _functions(sample)}
    assert found["f"] == (MAX_LINES + 2, True) and found["_C.g"][1] is False


def test_no_function_is_longer_than_a_screen():
    long = [f"{p.relative_to(ROOT)}:{node.lineno} {name} ({node.end_lineno - node.lineno + 1} lines)"
            for p in _sources() for name, node, _ in _functions(ast.parse(p.read_text()))
            if node.end_lineno - node.lineno + 1 > MAX_LINES]
    assert not long, "split these: " + "; ".join(long)


def test_every_public_function_says_what_it_does():
    bare = [f"{p.relative_to(ROOT)}:{node.lineno} {name}" for p in _sources()
            for name, node, public in _functions(ast.parse(p.read_text()))
            if public and ast.get_docstring(node) is None]
    assert not bare, "give these a one-line docstring: " + "; ".join(bare)
