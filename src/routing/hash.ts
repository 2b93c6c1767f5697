// xxhash-wasm's h64 must be initialised once (async); every call after that is synchronous.
import xxhash from "xxhash-wasm";

export type Hash64 = (input: string, seed?: bigint) => bigint;

let loaded: Promise<Hash64> | undefined;

export function loadHash64(): Promise<Hash64> {
  loaded ??= xxhash().then((api) => api.h64);
  return loaded;
}
