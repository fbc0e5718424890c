#!/usr/bin/env node
/**
 * fleetctl's entry point. `fleetctl hook <event>` runs on every Claude Code turn and tool
 * call, so it is dispatched here before anything heavy loads: the hook path imports no
 * yargs and no MCP SDK. Every other command goes to the full command line in cli.ts.
 */
import { hookInvocation } from './hooks/argv.js';

const hook = hookInvocation(process.argv.slice(2));
if (hook) await (await import('./hooks/run.js')).runHook(hook);
else await import('./cli.js');
