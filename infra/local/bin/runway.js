#!/usr/bin/env node
// The `runway` command. Registers the TypeScript loader, then runs the CLI from source, so the local
// runtime executes exactly the code that is bundled for Lambda.
import v8 from 'node:v8';
import { register } from 'tsx/esm/api';

// V8 starts an incremental marking whenever the memory held by Buffers outside its heap grows, and
// a request body of tens of MB streams in as thousands of socket reads: the main thread (which
// serves the S3 emulator) then ran a full mark-compact about every 100 ms, some 25 ms of each 20 MB
// PUT. Without incremental marking, V8 frees those short-lived buffers with cheap young-generation
// collections instead: a 20 MB PUT from Python's http.client went from 130-143 to 200-252 MB/s, and
// small requests measured the same either way. Set first, while the heap is still empty.
v8.setFlagsFromString('--no-incremental-marking');

// Lambda runs Node 24; only local development runs on Node 20, where the SDK would print a notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv.slice(2));
