"""The layout rules of docs/design.md: golden/ is pure NumPy, its modules import each other without
a cycle, and none of them is over 400 lines."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "golden"


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path):
    """Every module ``path`` imports (at the top or inside a function), absolute names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = ".".join(p for p in (base if node.level else "", node.module or "") if p)
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def graph(root):
    modules = {module_name(p): p for p in root.rglob("*.py")}
    return {name: sorted(imports(path) & modules.keys()) for name, path in modules.items()}


def find_cycle(edges):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in edges.get(node, ()):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt, stack)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node, [])
            if cycle:
                return cycle
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None


def test_golden_has_no_import_cycle():
    assert find_cycle(graph(GOLDEN)) is None


@pytest.mark.parametrize("path", sorted(GOLDEN.rglob("*.py")), ids=module_name)
def test_golden_module_is_pure(path):
    external = {name.split(".")[0] for name in imports(path)}
    assert not external & {"amaranth", "cocotb", "cocotb_tools", "hw", "sim", "synth", "deja"}


@pytest.mark.parametrize("path", sorted(GOLDEN.rglob("*.py")), ids=module_name)
def test_golden_module_is_short(path):
    assert len(path.read_text().splitlines()) <= 400
