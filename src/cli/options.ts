// What every command shares: its flags wired from the settings table, the config they make, and
// how a command fails (a message on stderr, exit 2).
import { Option, type Command } from "commander";
import { ConfigError, SETTINGS, loadConfig, optionKey } from "../config/load.js";
import type { Config } from "../config/schema.js";

/** The table's flags (all, or those of `only`), plus --config. */
export function settingsOptions(cmd: Command, only?: string[]): Command {
  cmd.option("--config <file>", "YAML config file (see config.example.yaml)");
  for (const s of SETTINGS) {
    if (only && !only.includes(s.path)) continue;
    const opt = new Option(s.flag, `${s.description} [env ${s.env}]`);
    if (s.list) opt.argParser((v: string, prev: string[] = []) => [...prev, v]);
    cmd.addOption(opt);
  }
  return cmd;
}

export function configFrom(opts: Record<string, unknown>): Config {
  const flags: Record<string, unknown> = {};
  for (const s of SETTINGS) flags[optionKey(s)] = opts[optionKey(s)];
  try {
    return loadConfig({ file: opts.config as string | undefined, env: process.env, flags });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

export function fail(message: string): never {
  process.stderr.write(`dyshard: ${message}\n`);
  process.exit(2);
}
