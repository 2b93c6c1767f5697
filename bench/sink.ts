// A trivial upstream for the benchmark: reads the body and answers 200, on each port given.
import http from "node:http";

const ports = process.argv.slice(2).map(Number);
for (const port of ports) {
  http
    .createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      req.on("data", () => {});
      req.on("end", () => res.writeHead(200, { "content-length": "0" }).end());
    })
    .listen(port, "127.0.0.1", () => process.stdout.write(`sink ${port}\n`));
}
