#!/usr/bin/env node
// The `runway` command. Registers the TypeScript loader, then runs the CLI from source, so the local
// runtime executes exactly the code that is bundled for Lambda.
import { register } from 'tsx/esm/api';

// Lambda runs Node 24; only local development runs on Node 20, where the SDK would print a notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv.slice(2));
