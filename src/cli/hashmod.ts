// `dyshard hashmod --modulus N [--separator S] VALUE...`: the value Prometheus's hashmod relabel
// action gives these source-label values, e.g. which of N sharded servers keeps a target.
import type { Command } from "commander";
import { DEFAULT_SEPARATOR, hashmod } from "../prometheus/hashmod.js";
import { fail } from "./options.js";

export function hashmodCommand(program: Command): void {
  program
    .command("hashmod")
    .description("print hashmod of the values as Prometheus's relabel action computes it (values joined by the separator)")
    .requiredOption("--modulus <n>", "the rule's modulus (e.g. the number of Prometheus servers)")
    .option("--separator <s>", "the rule's separator", DEFAULT_SEPARATOR)
    .argument("<values...>", "the source labels' values, in the rule's order (e.g. one __address__ such as 10.0.0.1:9091)")
    .action((values: string[], opts: { modulus: string; separator: string }) => {
      if (!/^\d+$/.test(opts.modulus) || Number(opts.modulus) < 1 || !Number.isSafeInteger(Number(opts.modulus)))
        fail(`--modulus must be a positive integer, not ${JSON.stringify(opts.modulus)} (Prometheus refuses modulus 0)`);
      process.stdout.write(`${hashmod(values, Number(opts.modulus), opts.separator)}\n`);
    });
}
