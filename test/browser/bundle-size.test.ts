import { expect, it } from 'vitest';
import { bundleSizes } from '../support/console-bundle.ts';

/** The console's budget: what a browser downloads, gzipped, stays under 300 KB (built by the global setup). */
const BUDGET_BYTES = 300 * 1024;

it('the built console bundle is under 300 KB gzipped', () => {
  const { gzipped, files } = bundleSizes();
  expect(files.some((file) => file.name.endsWith('.js'))).toBe(true);
  process.stdout.write(`console bundle: ${gzipped} bytes gzipped (${files.length} files)\n`);
  expect(gzipped).toBeLessThan(BUDGET_BYTES);
});
