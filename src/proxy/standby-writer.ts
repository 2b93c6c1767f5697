// With --replicas R ≥ 2: a push's standby copies, written beside the primary's. A standby copy is
// the group with the label dyshard_replica="1" (src/pushgateway/replica.ts), sent with the same
// method, body, Content-Type and Content-Encoding to each standby instance. A failed write never
// fails the push: it is counted and left to the handover's sweep, which re-replicates.
import { errorText } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Member } from "../membership/member.js";
import { groupPath } from "../pushgateway/exposition.js";
import type { GroupingKey } from "../pushgateway/grouping-key.js";
import { standbyLabels } from "../pushgateway/replica.js";
import type { ServerResponse } from "node:http";
import { AnswerCapture } from "./answer-capture.js";
import type { Engine } from "./engines/engine.js";
import { isHeader } from "./headers.js";

const EMPTY = Buffer.alloc(0);

export type StandbyResult = "ok" | "failed" | "skipped";

/** Writes through the push path's own engine (its pooled connections, its upstream timeout). */
export class StandbyWriter {
  constructor(
    private readonly engine: Engine,
    private readonly timeoutMs: number,
    private readonly count: (result: StandbyResult, n?: number) => void,
    private readonly log: Logger,
  ) {}

  /** Writes the standby copies; resolves when every write has ended, never rejects. */
  async write(standbys: readonly Member[], group: GroupingKey, method: string, rawHeaders: string[], body: Buffer): Promise<void> {
    const path = groupPath(standbyLabels({ ...group.labels, job: group.job }));
    const headers = contentHeaders(rawHeaders);
    await Promise.all(standbys.map((m) => this.one(m.url, path, method, headers, body)));
  }

  /**
   * A DELETE of the group: its standby copy on every healthy instance (the owner's left over from a
   * promotion included) and its primary on every one but the owner (which gets the client's DELETE),
   * so that no copy dyshard placed can be promoted back to life.
   */
  async deleteCopies(members: readonly Member[], owner: number | undefined, group: GroupingKey): Promise<void> {
    const labels = { ...group.labels, job: group.job };
    const standby = groupPath(standbyLabels(labels));
    const primary = groupPath(labels);
    const targets = members.flatMap((m) =>
      m.slot === owner
        ? [[m.url, standby]]
        : [
            [m.url, standby],
            [m.url, primary],
          ],
    );
    await Promise.all(targets.map(([url, path]) => this.one(url as string, path as string, "DELETE", [], EMPTY)));
  }

  /** A push whose body was not held (spooled or streamed): its standby copies come from the sweep. */
  skipped(n: number): void {
    this.count("skipped", n);
  }

  private async one(url: string, target: string, method: string, headers: string[], body: Buffer): Promise<void> {
    const answer = new AnswerCapture();
    const result = await this.engine.forward(url, { method, target, headers, body }, answer as unknown as ServerResponse);
    const status = result.relayed ? result.status : 0;
    if (status >= 200 && status < 300) return this.count("ok");
    this.count("failed");
    const why = result.relayed ? `answered ${status}` : errorText(result.error, this.timeoutMs);
    this.log.warn({ url: url + target, err: why }, "standby copy not written; the handover's sweep will write it");
  }
}

/** What the Pushgateway reads of a push besides its body. */
function contentHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (isHeader(name, "content-type") || isHeader(name, "content-encoding")) out.push(name, raw[i + 1] as string);
  }
  return out;
}
