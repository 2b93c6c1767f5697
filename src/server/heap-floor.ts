// A floor under V8's old generation, for every process that serves pushes.
//
// Measured on Node 20 (bench/README.md): a dyshard whose old generation holds only ~10 MB after
// start-up settles, under load, into a GC pattern where nearly every object that survives a
// scavenge is promoted (97%), so that a Mark-Compact runs every ~0.4 s and each push costs ~12 µs
// more CPU. With a few more MB alive from the start, survivors stay in the young generation (~2%
// promoted, no Mark-Compact in a 20 s run). Launch flags (--initial-heap-size) do the same but are
// lost whenever dyshard is started some other way; a flag set at run time comes too late.
const OBJECTS = 100_000; // ~8 MB of small objects

let floor: unknown[] | undefined;

export function raiseHeapFloor(): void {
  floor ??= Array.from({ length: OBJECTS }, (_, i) => ({ i, tag: `heap-floor-${i}` }));
}
