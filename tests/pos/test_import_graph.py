"""The import graph of the source: every module imports, there is no cycle, and the layers hold.

The graph is grimp's (the library import-linter is built on), over every
module of pos, acquirer, drivers and receipts. Imports made only for the type
checker (`if TYPE_CHECKING:`) count too: they do not run, but a cycle among
them is still two modules that cannot be understood one without the other
(the TUI's screens type their app through `pos.tui.till_app` for that reason).
"""
from __future__ import annotations

import importlib
import subprocess
import sys

import grimp
import pytest

PACKAGES = ("pos", "acquirer", "drivers", "receipts")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False, cache_dir=None)   # never a stale cache


def cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_cycle_finder_finds_a_cycle():
    probe = grimp.ImportGraph()
    for module in ("a", "a.b", "a.c", "a.d"):
        probe.add_module(module)
    probe.add_import(importer="a.b", imported="a.c")
    probe.add_import(importer="a.c", imported="a.b")
    probe.add_import(importer="a.c", imported="a.d")
    assert cycles(probe) == [{"a.b", "a.c"}]


def test_no_import_cycle_anywhere(graph):
    assert len(graph.modules) > 150
    # the graph holds the imports made only for the type checker (till_app imports the engine only so)
    assert graph.direct_import_exists(importer="pos.tui.till_app", imported="pos.core.engine")
    assert cycles(graph) == []


def test_every_module_imports(graph):
    """Each module on its own (a cycle or a missing name would fail here too)."""
    skip = {m for m in graph.modules if m.endswith(".__main__")}   # a program, not a module: it runs
    for module in sorted(graph.modules - skip):
        importlib.import_module(module)


CORE = ("pos.core", "pos.journal", "pos.hostlink", "pos.sources", "pos.reconcile")
FACES = ("pos.cli", "pos.tui", "pos.daemon")


def _imports_of(graph: grimp.ImportGraph, package: str) -> set[str]:
    return {imported for module in graph.find_children(package) | graph.find_descendants(package) | {package}
            for imported in graph.find_modules_directly_imported_by(module)}


@pytest.mark.parametrize("layer", CORE)
def test_the_core_imports_no_face_no_simulator_and_only_the_acquirers_standards_layer(graph, layer):
    imported = _imports_of(graph, layer)
    assert not {m for m in imported if m.startswith(FACES)}, "a face"
    assert not {m for m in imported if m.startswith(("pos.simulated", "drivers.sim", "pos.devices"))}, "a simulator"
    assert not {m for m in imported if m.startswith("acquirer.") and not m.startswith("acquirer.protocol")}


def test_the_core_loads_no_textual_no_http_server_and_no_simulator():
    core = ["pos.core.engine", "pos.journal.store", "pos.journal.receipts", "pos.hostlink.link",
            "pos.sources.contactless", "pos.sources.manual_entry", "pos.sources.qr.classify", "pos.sources.emv",
            "pos.reconcile.service"]
    forbidden = ("textual", "aiohttp", "http.server", "starlette", "fastapi", "uvicorn", "drivers.sim",
                 "pos.simulated", "pos.cli", "pos.tui", "pos.daemon", "acquirer.host", "acquirer.storage")
    probe = (f"import sys; import {', '.join(core)}; "
             f"print(sorted(m for m in sys.modules if m.startswith({forbidden!r})))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_faces_import_the_core_never_the_reverse(graph):
    for face in ("pos.cli", "pos.tui"):
        assert any(m.startswith("pos.core") for m in _imports_of(graph, face)), face
    for package in ("pos.core", "pos.journal", "pos.hostlink", "pos.sources", "pos.reconcile", "pos.devices",
                    "pos.simulated"):
        assert not {m for m in _imports_of(graph, package) if m.startswith(FACES)}, package


