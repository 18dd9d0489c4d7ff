"""The package's own import graph, read from the source (nothing is imported or run).

    python tools/import_graph.py            summary: modules, edges, cycles, depth, function-local imports, floor
    python tools/import_graph.py --edges    every edge `a -> b` (top-level and function-local)

Every `from .x import ...`, `from finepose.x import ...`, `import finepose.x` counts, at module level or inside a
function. Depth is the longest chain of imports (a module importing nothing of the package has depth 1).
`METHOD_FLOOR` lists the modules of the method that may import only `FLOOR_ALLOWED` and each other.
"""
from __future__ import annotations

import ast
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "finepose"
METHOD_FLOOR = ("diffusion", "clip", "fpp", "fpc", "mixste", "model")
FLOOR_ALLOWED = ("config", "skeleton", "io")


def module_imports(path: Path) -> list[tuple[str, bool, int]]:
    "(imported module, inside a function?, line) for each import of a package module in `path`."
    tree = ast.parse(path.read_text(), str(path))
    out = []

    def visit(node, in_func):
        for child in ast.iter_child_nodes(node):
            inner = in_func or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom):
                mod = child.module or ""
                if child.level == 1:
                    names = [mod] if mod else [a.name for a in child.names]
                elif mod == "finepose":
                    names = [a.name for a in child.names]
                elif mod.startswith("finepose."):
                    names = [mod.split(".")[1]]
                else:
                    names = []
                for n in names:
                    n = n.split(".")[0]
                    if (PKG / f"{n}.py").is_file(): out.append((n, in_func, child.lineno))
            elif isinstance(child, ast.Import):
                for a in child.names:
                    if a.name.startswith("finepose.") and (PKG / f"{a.name.split('.')[1]}.py").is_file():
                        out.append((a.name.split(".")[1], in_func, child.lineno))
            visit(child, inner)

    visit(tree, False)
    return out


def graph() -> dict[str, list[tuple[str, bool, int]]]:
    mods = sorted(p.stem for p in PKG.glob("*.py") if p.stem not in ("__init__", "_modidx"))
    return {m: [e for e in module_imports(PKG / f"{m}.py") if e[0] != m] for m in mods}


def cycles(g) -> list[list[str]]:
    "Elementary cycles found by depth-first search (each reported once, rotated to start at its smallest name)."
    found, seen = [], set()

    def dfs(node, stack):
        for dst in sorted({d for d, _, _ in g[node]}):
            if dst in stack:
                cyc = stack[stack.index(dst):]
                k = cyc.index(min(cyc)); cyc = cyc[k:] + cyc[:k]
                if tuple(cyc) not in seen: seen.add(tuple(cyc)); found.append(cyc)
            elif len(stack) < 40:
                dfs(dst, stack + [dst])

    for m in g: dfs(m, [m])
    return found


def depths(g) -> dict[str, int]:
    @lru_cache(None)
    def depth(m, guard=()):
        if m in guard: return 0
        return 1 + max((depth(d, guard + (m,)) for d, _, _ in g[m]), default=0)
    return {m: depth(m) for m in g}


def floor_violations(g) -> list[str]:
    ok = set(METHOD_FLOOR) | set(FLOOR_ALLOWED)
    return [f"{m} -> {d} (line {ln})" for m in METHOD_FLOOR if m in g for d, _, ln in g[m] if d not in ok]


def report(g) -> dict:
    d = depths(g)
    local = {m: [(dst, ln) for dst, f, ln in es if f] for m, es in g.items()}
    return dict(modules=len(g), edges=sum(len({x for x, _, _ in es}) for es in g.values()), cycles=cycles(g),
                max_depth=max(d.values()), deepest=max(d, key=d.get),
                local_imports={m: v for m, v in local.items() if v}, floor_violations=floor_violations(g))


def main(argv) -> int:
    g = graph()
    if "--edges" in argv:
        for m, es in g.items():
            for dst, f, ln in es: print(f"{m} -> {dst}{'  (inside a function)' if f else ''}  line {ln}")
        return 0
    r = report(g)
    print(f"modules {r['modules']}, distinct import edges {r['edges']}")
    print(f"cycles: {r['cycles'] or 'none'}")
    print(f"longest import chain: {r['max_depth']} levels (from {r['deepest']})")
    n_local = sum(len(v) for v in r["local_imports"].values())
    print(f"function-local imports of the package: {n_local}")
    for m, v in r["local_imports"].items(): print(f"  {m}: " + ", ".join(f"{d} (line {ln})" for d, ln in v))
    print(f"method floor ({', '.join(METHOD_FLOOR)} may import only {', '.join(FLOOR_ALLOWED)} and each other): "
          + ("clean" if not r["floor_violations"] else "; ".join(r["floor_violations"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
