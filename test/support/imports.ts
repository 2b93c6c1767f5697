// The import graph of a source tree (relative imports, type-only ones included) and its cycles,
// for the house rule that modules never import each other in a circle.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export type ImportGraph = Map<string, string[]>;

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of tsFiles(root)) {
    const text = readFileSync(path.join(root, file), "utf8");
    const targets = new Set<string>();
    for (const m of text.matchAll(SPECIFIER)) {
      targets.add(path.normalize(path.join(path.dirname(file), m[1] as string)).replace(/\.js$/, ".ts"));
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

function tsFiles(root: string, dir = ""): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) return tsFiles(root, rel);
    return rel.endsWith(".ts") ? [rel] : [];
  });
}

/** The strongly connected components with more than one file (or a file importing itself): Tarjan's. */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}
