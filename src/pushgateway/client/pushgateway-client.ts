// A small client for the Pushgateway's own API, for the handover: read every group, put one back,
// delete one. Answers are read with a size limit, so one huge instance cannot exhaust memory.
import type { Agent } from "undici";
import { request } from "undici";
import type { ApiGroup } from "../exposition.js";
import { groupPath } from "../exposition.js";
import { UpstreamAccess } from "../../upstream/upstream-access.js";

export class PushgatewayClient {
  private readonly agent: Agent;

  constructor(
    private readonly opts: { timeoutMs: number; maxInventoryBytes: number },
    /** https verification and the credential of every request (src/upstream/upstream-access.ts). */
    private readonly access: UpstreamAccess = UpstreamAccess.DEFAULT,
  ) {
    this.agent = access.agent({ connections: 8, keepAliveTimeout: 10_000 });
  }

  /** GET <url>/api/v1/metrics: every group the instance holds. */
  async groups(url: string): Promise<ApiGroup[]> {
    const res = await request(`${url}/api/v1/metrics`, {
      dispatcher: this.agent,
      headers: this.access.headerObject(url),
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`${url}/api/v1/metrics answered ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.opts.maxInventoryBytes) {
        res.body.destroy();
        throw new Error(`${url}/api/v1/metrics is larger than the inventory limit of ${this.opts.maxInventoryBytes} bytes`);
      }
      chunks.push(chunk);
    }
    const body = JSON.parse(Buffer.concat(chunks, size).toString("utf8")) as { status: string; data: ApiGroup[] | null };
    if (body.status !== "success") throw new Error(`${url}/api/v1/metrics answered status ${body.status}`);
    return body.data ?? [];
  }

  /** PUT (replace the group) or POST (replace only the families in `text`). */
  async push(url: string, labels: Record<string, string>, text: string, method: "PUT" | "POST" = "PUT"): Promise<void> {
    const res = await request(url + groupPath(labels), {
      method,
      body: text,
      headers: this.access.headerObject(url, { "content-type": "text/plain; version=0.0.4" }),
      dispatcher: this.agent,
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
    });
    const answer = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${method} ${url}${groupPath(labels)} answered ${res.statusCode}: ${answer.trim()}`);
  }

  async delete(url: string, labels: Record<string, string>): Promise<void> {
    await this.deletePath(url, groupPath(labels));
  }

  /** DELETE <url><path>: the group that push path addresses (202 also when it does not exist). */
  async deletePath(url: string, path: string): Promise<void> {
    const res = await request(url + path, {
      method: "DELETE",
      headers: this.access.headerObject(url),
      dispatcher: this.agent,
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
    });
    const answer = await res.body.text();
    if (res.statusCode !== 202) throw new Error(`DELETE ${url}${path} answered ${res.statusCode}: ${answer.trim()}`);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Cuts every request in flight (they reject at once), for a stop that cannot wait for them. */
  async destroy(): Promise<void> {
    await this.agent.destroy();
  }
}
