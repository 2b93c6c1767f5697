// Which Prometheus servers scrape which Pushgateway: each Pushgateway, keyed by its `host:port`,
// goes to the first `replicas` distinct healthy slots of its re-jump sequence on the ring of
// Prometheus servers — the push ring's rule, so a server that dies hands only its own Pushgateways
// to the survivors, and takes them back when it recovers. Pure.
import type { Ring } from "../routing/ring.js";
import { targetAddress } from "./sd-targets.js";

/** Prometheus slot → upstream URLs of its Pushgateways (in the order given). */
export type Allocation = Map<number, string[]>;

export function allocate(upstreams: readonly string[], ring: Ring, replicas: number): Allocation {
  const out: Allocation = new Map();
  for (const url of upstreams) {
    for (const slot of ring.owners(targetAddress(new URL(url)), replicas)) {
      const list = out.get(slot);
      if (list) list.push(url);
      else out.set(slot, [url]);
    }
  }
  return out;
}
