// The worker thread of BcryptPool (bcrypt-pool.ts): one bcrypt compare per message, in turn.
import { parentPort } from "node:worker_threads";
import bcrypt from "bcryptjs";

parentPort?.on("message", ({ id, password, hash }: { id: number; password: string; hash: string }) => {
  parentPort?.postMessage({ id, ok: bcrypt.compareSync(password, hash) });
});
