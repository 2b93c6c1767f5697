#!/usr/bin/env node
// dyshard's command line: one file per command beside this one.
import { Command } from "commander";
import { hashmodCommand } from "./hashmod.js";
import { prometheusConfigCommand } from "./prometheus-config.js";
import { rebalanceCommand } from "./rebalance.js";
import { routeCommand } from "./route.js";
import { serveCommand } from "./serve.js";
import { whereCommand } from "./where.js";

const program = new Command("dyshard")
  .description("A sharding, health-aware front that makes N Prometheus Pushgateways act as one")
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

serveCommand(program);
routeCommand(program);
rebalanceCommand(program);
hashmodCommand(program);
prometheusConfigCommand(program);
whereCommand(program);

await program.parseAsync(process.argv);
