/**
 * Reading a `.tar.gz` (what a SageMaker training job leaves as `model.tar.gz`): ustar and GNU
 * headers, regular files only; directories, links and pax/GNU extension records are skipped.
 */
import { gunzipSync } from 'node:zlib';

/** File path (without a leading `./`) -> contents. */
export function readTarGz(bytes: Uint8Array, maxBytes: number): Map<string, Uint8Array> {
  const tar = gunzipSync(bytes, { maxOutputLength: maxBytes });
  const files = new Map<string, Uint8Array>();
  const field = (offset: number, length: number) => {
    const raw = tar.subarray(offset, offset + length);
    const end = raw.indexOf(0);
    return new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end));
  };
  for (let offset = 0; ; ) {
    // An archive ends with zero blocks; running out of bytes first means it was cut short.
    if (offset + 512 > tar.length) throw new Error('truncated tar archive (no end-of-archive block)');
    if (tar.subarray(offset, offset + 512).every((byte) => byte === 0)) break;
    const size = Number.parseInt(field(offset + 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) throw new Error(`corrupt tar header at byte ${offset}`);
    const type = String.fromCharCode(tar[offset + 156] ?? 0);
    const prefix = field(offset + 257, 6).startsWith('ustar') ? field(offset + 345, 155) : '';
    const name = (prefix ? `${prefix}/${field(offset, 100)}` : field(offset, 100)).replace(/^\.\//, '');
    const start = offset + 512;
    if ((type === '0' || type === '\0') && name !== '' && !name.endsWith('/')) {
      if (start + size > tar.length) throw new Error(`truncated tar entry ${name}`);
      files.set(name, tar.subarray(start, start + size));
    }
    offset = start + Math.ceil(size / 512) * 512;
  }
  return files;
}
