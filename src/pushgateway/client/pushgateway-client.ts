// A small client for the Pushgateway's own API, for the handover (read every group, put one back,
// delete one) and the fan-out of src/ops/ (status, wipe). Answers are read with a size limit, so
// one huge instance cannot exhaust memory; `signal` bounds a whole request (the fan-out's deadline).
import type { Agent } from "undici";
import { request } from "undici";
import type { ApiGroup } from "../exposition.js";
import { groupPath } from "../exposition.js";
import { UpstreamAccess } from "../../upstream/upstream-access.js";
import { DataArrayParser } from "./data-array-parser.js";

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
  async groups(url: string, signal?: AbortSignal): Promise<ApiGroup[]> {
    const all: ApiGroup[] = [];
    await this.eachGroup(url, (g) => void all.push(g), signal);
    return all;
  }

  /**
   * GET <url>/api/v1/metrics read as it arrives: each group handed to `each` once parsed, so that
   * a caller keeping only what it needs never holds the whole answer (data-array-parser.ts).
   */
  async eachGroup(url: string, each: (group: ApiGroup) => void, signal?: AbortSignal): Promise<void> {
    const parser = new DataArrayParser((g) => each(g as ApiGroup));
    await this.apiRead(url, "/api/v1/metrics", parser, signal);
  }

  /** GET <url>/api/v1/status: its build, flags and start time (the `data` of its answer). */
  async status(url: string, signal?: AbortSignal): Promise<unknown> {
    const parser = new DataArrayParser(() => {});
    await this.apiRead(url, "/api/v1/status", parser, signal);
    return parser.members.data;
  }

  /** PUT <url>/api/v1/admin/wipe: every group gone (202; 404 when it runs without --web.enable-admin-api). */
  async wipe(url: string, signal?: AbortSignal): Promise<void> {
    const res = await request(`${url}/api/v1/admin/wipe`, { method: "PUT", ...this.options(url, signal) });
    const answer = await res.body.text();
    if (res.statusCode === 404)
      throw new Error(`PUT ${url}/api/v1/admin/wipe answered 404: the instance runs without --web.enable-admin-api`);
    if (res.statusCode !== 202) throw new Error(`PUT ${url}/api/v1/admin/wipe answered ${res.statusCode}: ${answer.trim()}`);
  }

  /** A JSON API answer `{status: "success", data}` fed to `parser` as it arrives, within the inventory limit. */
  private async apiRead(url: string, path: string, parser: DataArrayParser, signal?: AbortSignal): Promise<void> {
    const res = await request(url + path, this.options(url, signal));
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`${url}${path} answered ${res.statusCode}`);
    }
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.opts.maxInventoryBytes)
          throw new Error(`${url}${path} is larger than the inventory limit of ${this.opts.maxInventoryBytes} bytes`);
        parser.write(chunk);
      }
      parser.end();
    } catch (err) {
      res.body.destroy();
      if (err instanceof SyntaxError) throw new Error(`${url}${path} answered no valid JSON: ${err.message}`);
      throw err;
    }
    if (parser.members.status !== "success") throw new Error(`${url}${path} answered status ${String(parser.members.status)}`);
  }

  /** Every request's options: the agent, the timeouts, the upstream's credential (`extra` headers beside it). */
  private options(url: string, signal?: AbortSignal, extra?: Record<string, string>) {
    return {
      dispatcher: this.agent,
      headers: this.access.headerObject(url, extra),
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
      ...(signal ? { signal } : {}),
    };
  }

  /**
   * PUT (replace the group) or POST (replace only the families in `text`). 202 is a success too: an
   * instance run with --push.disable-consistency-check answers it and applies the push a moment later.
   */
  async push(url: string, labels: Record<string, string>, text: string, method: "PUT" | "POST" = "PUT"): Promise<void> {
    const res = await request(url + groupPath(labels), {
      method,
      body: text,
      ...this.options(url, undefined, { "content-type": "text/plain; version=0.0.4" }),
    });
    const answer = await res.body.text();
    if (res.statusCode !== 200 && res.statusCode !== 202)
      throw new Error(`${method} ${url}${groupPath(labels)} answered ${res.statusCode}: ${answer.trim()}`);
  }

  async delete(url: string, labels: Record<string, string>): Promise<void> {
    await this.deletePath(url, groupPath(labels));
  }

  /** DELETE <url><path>: the group that push path addresses (202 also when it does not exist). */
  async deletePath(url: string, path: string): Promise<void> {
    const res = await request(url + path, {
      method: "DELETE",
      ...this.options(url),
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
