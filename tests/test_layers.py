"""The import arrows point one way: api/, web/ and notifications/ → kia/. The domain core imports neither the HTTP
layers nor Flask, and no layer imports the modules that wire everything together, so no circle runs through them."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kia", "api", "web", "notifications")
# The app factory, the command line, the scheduler and the WSGI entry point wire the layers together.
WIRING = {"kia.app", "kia.cli", "kia.scheduler", "kia.wsgi"}
# What a request of api/ and web/ reads of the app (kia.http) is Flask-bound by its nature.
FLASK_SIDE = WIRING | {"kia.http"}
FLASK = ("flask", "flask_babel", "flask_login", "werkzeug")


def module_names(root: Path) -> dict[str, Path]:
    names = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            names[name.removesuffix(".__init__")] = path
    return names


def imports_of(name: str, path: Path) -> set[str]:
    """Every module `name` imports, anywhere in it (a function's own import counts: it runs sooner or later)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def import_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(first-party module → the first-party modules it imports, module → every name it imports)."""
    names = module_names(root)
    graph: dict[str, set[str]] = defaultdict(set)
    raw: dict[str, set[str]] = {}
    for name, path in names.items():
        raw[name] = imports_of(name, path)
        for target in raw[name]:
            while target and target not in names:   # `from kia.db import utcnow` is an import of kia.db
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph, raw


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _top(name: str) -> str:
    return name.partition(".")[0]


def violations(root: Path) -> list[str]:
    graph, raw = import_graph(root)
    found = []
    for name, targets in sorted(graph.items()):
        for target in sorted(targets):
            if _top(name) == "kia" and name not in WIRING and _top(target) in ("api", "web", "notifications"):
                found.append(f"{name} imports {target}: the domain core depends on no layer above it")
            if _top(name) != "kia" and target in WIRING:
                found.append(f"{name} imports {target}: a layer never imports the modules that wire it in")
    for name, names in sorted(raw.items()):
        if _top(name) == "kia" and name not in FLASK_SIDE:
            found.extend(f"{name} imports {each}: the domain core has no Flask" for each in sorted(names)
                         if _top(each) in FLASK)
    for component in circles(graph):
        if len({_top(name) for name in component}) > 1 or _top(component[0]) == "kia":
            found.append("import circle: " + " → ".join(component))
    return found


def test_the_imports_point_one_way():
    assert violations(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for relative, text in files.items():
        (tmp_path / relative).write_text(text)
    return tmp_path


@pytest.mark.parametrize("files, expected", [
    ({"kia/app.py": "from api.auth import bp\n", "api/auth.py": "from kia.app import db_session\n"},
     ["api.auth imports kia.app", "import circle: api.auth → kia.app"]),
    ({"kia/cases.py": "def f():\n    from web.views import page\n", "web/views.py": "page = 1\n"},
     ["kia.cases imports web.views"]),
    ({"kia/cases.py": "from flask import g\n"}, ["kia.cases imports flask"]),
    ({"kia/a.py": "from kia import b\n", "kia/b.py": "from . import a\n"}, ["import circle: kia.a → kia.b"]),
    ({"kia/http.py": "from flask import g\n", "api/auth.py": "from kia.http import db_session\n",
      "kia/app.py": "from api import auth\n"}, []),
])
def test_a_returning_circle_is_found(tmp_path, files, expected):
    found = violations(_tree(tmp_path, files))
    assert [line for line in found if not any(line.startswith(each) for each in expected)] == []
    assert all(any(line.startswith(each) for line in found) for each in expected), found
