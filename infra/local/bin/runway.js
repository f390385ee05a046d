#!/usr/bin/env node
// The `runway` command. Registers the TypeScript loader, then runs the CLI from source, so the local
// runtime executes exactly the code that is bundled for Lambda.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv.slice(2));
