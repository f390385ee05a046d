import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecordTrailer, TempDir } from '../../infra/local/emulators/s3-fs.ts';

/** The S3 emulator's temporary files on a real file system: what a body's pieces become on disk. */
describe('TempFile.writable', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'runway-tempfile-'));
  const temp = new TempDir(path.join(root, 'tmp'));
  beforeAll(() => temp.reset());
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Pieces of the sizes a socket and a Python client hand over, some larger than the staging buffer. */
  function pieces(total: number): Buffer[] {
    const out: Buffer[] = [];
    const sizes = [1, 8192, 65536, 3 * 1024 * 1024 + 7, 16384, 100];
    for (let left = total, i = 0; left > 0; i++) {
      const size = Math.min(left, sizes[i % sizes.length] as number);
      out.push(randomBytes(size));
      left -= size;
    }
    return out;
  }

  it.each([
    ['nothing', 0],
    ['less than one staging buffer', 1000],
    ['exactly one staging buffer', 1024 * 1024],
    ['several flushes ahead of the end', 13 * 1024 * 1024 + 5],
  ])('writes %s byte for byte, sealed with its record', async (_name, size) => {
    const body = pieces(size);
    const file = await temp.createFile();
    await pipeline(Readable.from(body), file.writable());
    await file.seal({ size });
    const written = readFileSync(file.path);
    const data = written.subarray(0, size);
    expect(createHash('sha256').update(data).digest('hex')).toBe(
      createHash('sha256').update(Buffer.concat(body)).digest('hex'),
    );
    const trailer = await readRecordTrailer(file.path);
    expect(trailer).toEqual({ record: { size }, dataBytes: size });
  });

  it('discards a file whose body stopped midway, its early flushes done', async () => {
    const file = await temp.createFile();
    const source = Readable.from(
      (async function* () {
        for (const piece of pieces(9 * 1024 * 1024)) yield piece;
        throw new Error('the client went away');
      })(),
    );
    await expect(pipeline(source, file.writable())).rejects.toThrow('the client went away');
    await file.discard();
    expect(() => readFileSync(file.path)).toThrow(/ENOENT/);
  });
});
