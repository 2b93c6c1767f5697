// A trivial upstream for the benchmark: reads the body and answers 200, on each port given.
//   node sink.js PORT...            answers 200 with an empty body; GET /-/total answers
//                                   {"requests":R} (pushes under /metrics/ over all ports)
//   node sink.js --count PORT...    also counts the body bytes: each push under /metrics/ is answered
//                                   {"bytes":N} (what arrived), and GET /-/total answers
//                                   {"requests":R,"bytes":B,"max_bytes":M} over all ports.
import http from "node:http";

const args = process.argv.slice(2);
const count = args.includes("--count");
const ports = args.filter((a) => a !== "--count").map(Number);
const total = { requests: 0, bytes: 0, max_bytes: 0 };

for (const port of ports) {
  http
    .createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
      if (!count) {
        if (req.url === "/-/total") {
          req.resume();
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ requests: total.requests }));
          return;
        }
        if (req.url?.startsWith("/metrics/")) total.requests++;
        req.on("data", () => {});
        req.on("end", () => res.writeHead(200, { "content-length": "0" }).end());
        return;
      }
      if (req.url === "/-/total") {
        req.resume();
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(total));
        return;
      }
      let bytes = 0;
      req.on("data", (chunk: Buffer) => (bytes += chunk.length));
      req.on("end", () => {
        if (req.url?.startsWith("/metrics/")) {
          total.requests++;
          total.bytes += bytes;
          total.max_bytes = Math.max(total.max_bytes, bytes);
        }
        const body = JSON.stringify({ bytes });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
      });
    })
    .listen(port, "127.0.0.1", () => process.stdout.write(`sink ${port}\n`));
}
