// The soak's faults, one step at a time on a seeded schedule, every kind once per round: an
// instance SIGKILLed and restarted with its disk, SIGSTOPped and resumed, SIGKILLed and restarted
// empty; Consul stopped and restarted (with an instance crash inside the outage, half the time), or
// replaced by one without its state (dyshard must register the instances again); every instance
// hung at once. After each step the driver waits until dyshard sees every instance healthy and a
// handover run finds nothing misplaced, so two losses never overlap (one more than --replicas 2 is
// built to survive).
import { waitFor } from "../ports.js";
import { prng } from "../prng.js";
import { INSTANCES, type SoakCluster } from "./cluster.js";
import { JOB } from "./pushers.js";

export type Fault = "kill" | "stop" | "empty" | "consul" | "consul-empty" | "all-down";
const FAULTS: Fault[] = ["kill", "stop", "empty", "consul", "consul-empty", "all-down"];

/** When instance `instance` was hung (SIGSTOP to SIGCONT). */
export interface Interval {
  fromMs: number;
  toMs: number;
}

export class Chaos {
  readonly counts: Record<Fault, number> = { kill: 0, stop: 0, empty: 0, consul: 0, "consul-empty": 0, "all-down": 0 };
  /** Windows when no instance was running (every one killed or hung), or Consul knew of none. */
  readonly allDown: Interval[] = [];
  /** Per instance, when it was hung. */
  readonly hung: Interval[][] = Array.from({ length: INSTANCES }, () => []);
  /** When an instance lost data (killed: its last 200 ms; restarted empty: everything). */
  readonly losses: number[] = [];
  /** Primaries on the instances restarted empty, when they were wiped (without standby copies: gone until pushed again). */
  wipedPrimaries = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly random: () => number;
  private deck: Fault[] = [];

  constructor(
    private readonly cluster: SoakCluster,
    seed: number,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.random = prng(seed);
  }

  start(untilMs: number): this {
    this.running = true;
    this.loop = (async () => {
      // At least one whole round, so that a short run still sees every kind of fault.
      for (let n = 0; this.running && (Date.now() < untilMs || n < FAULTS.length); n++) await this.step();
    })();
    return this;
  }

  /** Resolves once the time is up and the last step has recovered. */
  async done(): Promise<void> {
    await this.loop;
  }

  /** Lets the step in progress finish (and recover), and starts no other. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The faults in a seeded order, each once per round, so a short run sees every kind. */
  private next(): Fault {
    if (this.deck.length === 0) {
      this.deck = [...FAULTS];
      for (let i = this.deck.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [this.deck[i], this.deck[j]] = [this.deck[j] as Fault, this.deck[i] as Fault];
      }
    }
    return this.deck.pop() as Fault;
  }

  /** `minMs` (300 ms unless told) and up to 1.2 s more. */
  private hold(minMs = 300): Promise<void> {
    return sleep(minMs + Math.floor(this.random() * 1200));
  }

  private async step(): Promise<void> {
    const fault = this.next();
    const victim = Math.floor(this.random() * INSTANCES);
    this.counts[fault]++;
    this.log(`${fault}${fault === "all-down" || fault === "consul-empty" ? "" : ` instance ${victim}`}`);
    if (fault === "kill" || fault === "empty") await this.crash(victim, fault === "empty");
    else if (fault === "stop") await this.hang([victim]);
    else if (fault === "all-down") await this.hang([...Array(INSTANCES).keys()]);
    else if (fault === "consul") await this.consulOutage(victim);
    else await this.consulWithoutState();
    const t0 = Date.now();
    await this.cluster.settle(30_000);
    this.log(`  recovered, settled in ${Date.now() - t0} ms`);
    await sleep(100 + Math.floor(this.random() * 400));
  }

  private async crash(i: number, wipe: boolean): Promise<void> {
    const pg = this.cluster.pgs[i]!;
    if (wipe) this.wipedPrimaries += (await pg.groups()).filter((g) => g.labels.job === JOB && !g.labels.dyshard_replica).length;
    await pg.kill("SIGKILL");
    this.losses.push(Date.now());
    if (wipe) this.cluster.wipeDisk(i);
    await this.hold();
    await pg.restart();
  }

  private async hang(instances: number[]): Promise<void> {
    const fromMs = Date.now();
    for (const i of instances) process.kill(this.cluster.pgs[i]!.pid!, "SIGSTOP");
    // Every instance hung: long enough for dyshard's checks (1 s timeouts) to see it and answer 503.
    await this.hold(instances.length === INSTANCES ? 1500 : 300);
    for (const i of instances) process.kill(this.cluster.pgs[i]!.pid!, "SIGCONT");
    const toMs = Date.now();
    for (const i of instances) this.hung[i]!.push({ fromMs, toMs });
    if (instances.length === INSTANCES) this.allDown.push({ fromMs, toMs });
  }

  private async consulOutage(victim: number): Promise<void> {
    await this.cluster.pauseConsul();
    await this.hold();
    // dyshard must route on its last membership, and its own checks must see this crash.
    if (this.random() < 0.5) await this.crash(victim, false);
    await this.cluster.resumeConsul();
  }

  /** A Consul back without its state lists no instance until dyshard registers them again and their checks pass. */
  private async consulWithoutState(): Promise<void> {
    const fromMs = Date.now();
    await this.cluster.replaceConsul();
    await waitFor("Consul to hold every Pushgateway again", async () => this.cluster.consulHoldsAll(), 15_000, 20);
    this.allDown.push({ fromMs, toMs: Date.now() });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
