// A small client for the Pushgateway's own API, for the handover: read every group, put one back,
// delete one. Answers are read with a size limit, so one huge instance cannot exhaust memory.
import { AnswerTooLargeError, httpRequest, keepAliveAgents, type HttpOptions } from "../http-client.js";
import type { ApiGroup } from "./exposition.js";
import { groupPath } from "./exposition.js";

export class PushgatewayClient {
  private readonly agents = keepAliveAgents(8);

  constructor(private readonly opts: { timeoutMs: number; maxInventoryBytes: number }) {}

  private call(url: string, opts: Omit<HttpOptions, "timeoutMs" | "agents"> = {}) {
    return httpRequest(url, { ...opts, timeoutMs: this.opts.timeoutMs, agents: this.agents });
  }

  /** GET <url>/api/v1/metrics: every group the instance holds. */
  async groups(url: string): Promise<ApiGroup[]> {
    const res = await this.call(`${url}/api/v1/metrics`, { maxBytes: this.opts.maxInventoryBytes }).catch((err: Error) => {
      throw err instanceof AnswerTooLargeError ? new Error(`${url}/api/v1/metrics is larger than the inventory limit of ${this.opts.maxInventoryBytes} bytes`) : err;
    });
    if (res.status !== 200) throw new Error(`${url}/api/v1/metrics answered ${res.status}`);
    const body = JSON.parse(res.body.toString("utf8")) as { status: string; data: ApiGroup[] | null };
    if (body.status !== "success") throw new Error(`${url}/api/v1/metrics answered status ${body.status}`);
    return body.data ?? [];
  }

  /** PUT (replace the group) or POST (replace only the families in `text`). */
  async push(url: string, labels: Record<string, string>, text: string, method: "PUT" | "POST" = "PUT"): Promise<void> {
    const res = await this.call(url + groupPath(labels), { method, body: text, headers: { "content-type": "text/plain; version=0.0.4" } });
    if (res.status !== 200) throw new Error(`${method} ${url}${groupPath(labels)} answered ${res.status}: ${res.body.toString("utf8").trim()}`);
  }

  async delete(url: string, labels: Record<string, string>): Promise<void> {
    await this.deletePath(url, groupPath(labels));
  }

  /** DELETE <url><path>: the group that push path addresses (202 also when it does not exist). */
  async deletePath(url: string, path: string): Promise<void> {
    const res = await this.call(url + path, { method: "DELETE" });
    if (res.status !== 202) throw new Error(`DELETE ${url}${path} answered ${res.status}: ${res.body.toString("utf8").trim()}`);
  }

  async close(): Promise<void> {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
