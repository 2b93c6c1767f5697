// The soak's faults, one step at a time on a seeded schedule: an instance SIGKILLed and restarted
// with its disk, SIGSTOPped and resumed, SIGKILLed and restarted empty; Consul stopped and
// restarted (with an instance crash inside the outage, half the time); every instance hung at once.
// After each step the driver waits until dyshard sees every instance healthy and a handover run finds
// nothing misplaced, so two losses never overlap (one more than --replicas 2 is built to survive).
import { prng } from "../prng.js";
import { INSTANCES, type SoakCluster } from "./cluster.js";

export type Fault = "kill" | "stop" | "empty" | "consul" | "all-down";
const FAULTS: Fault[] = ["kill", "stop", "empty", "consul", "all-down"];

/** When instance `instance` was hung (SIGSTOP to SIGCONT). */
export interface Interval {
  fromMs: number;
  toMs: number;
}

export class Chaos {
  readonly counts: Record<Fault, number> = { kill: 0, stop: 0, empty: 0, consul: 0, "all-down": 0 };
  /** Windows when no instance was running (every one killed or hung). */
  readonly allDown: Interval[] = [];
  /** Per instance, when it was hung. */
  readonly hung: Interval[][] = Array.from({ length: INSTANCES }, () => []);
  /** When an instance lost data (killed: its last 200 ms; restarted empty: everything). */
  readonly losses: number[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly random: () => number;

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
      while (this.running && Date.now() < untilMs) await this.step();
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

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)] as T;
  }

  /** 300 ms to 1.5 s. */
  private hold(): Promise<void> {
    return sleep(300 + Math.floor(this.random() * 1200));
  }

  private async step(): Promise<void> {
    const fault = this.pick(FAULTS);
    const victim = Math.floor(this.random() * INSTANCES);
    this.counts[fault]++;
    this.log(`${fault}${fault === "all-down" ? "" : ` instance ${victim}`}`);
    if (fault === "kill" || fault === "empty") await this.crash(victim, fault === "empty");
    else if (fault === "stop") await this.hang([victim]);
    else if (fault === "all-down") await this.hang([...Array(INSTANCES).keys()]);
    else await this.consulOutage(victim);
    const t0 = Date.now();
    await this.cluster.settle(30_000);
    this.log(`  recovered, settled in ${Date.now() - t0} ms`);
    await sleep(200 + Math.floor(this.random() * 800));
  }

  private async crash(i: number, wipe: boolean): Promise<void> {
    const pg = this.cluster.pgs[i]!;
    await pg.kill("SIGKILL");
    this.losses.push(Date.now());
    if (wipe) this.cluster.wipeDisk(i);
    await this.hold();
    await pg.restart();
  }

  private async hang(instances: number[]): Promise<void> {
    const fromMs = Date.now();
    for (const i of instances) process.kill(this.cluster.pgs[i]!.pid!, "SIGSTOP");
    await this.hold();
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
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
