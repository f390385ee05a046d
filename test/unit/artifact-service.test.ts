import { beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidParameterError,
  NotImplementedError,
  PayloadTooLargeError,
  ResourceDoesNotExistError,
} from '../../shared/platform/errors.ts';
import { ArtifactService } from '../../shared/tracking/artifacts/artifact.service.ts';
import type { ArtifactEntry, UploadedPart } from '../../shared/tracking/artifacts/model.ts';
import type {
  ArtifactListPage,
  ArtifactStore,
  LoggedModelArtifactLocator,
  RunArtifactLocator,
} from '../../shared/tracking/artifacts/ports.ts';

/** An in-memory store that pages like S3 (sorted keys, `pageSize` entries a page). */
class MemoryStore implements ArtifactStore {
  readonly files = new Map<string, { body: Uint8Array; contentType: string }>();
  readonly uploads = new Map<string, { path: string; parts?: readonly UploadedPart[] }>();
  readonly aborted: string[] = [];
  listCalls = 0;
  urlLength = 200;

  constructor(private readonly pageSize = 1000) {}

  async write(path: string, body: Uint8Array, contentType: string) {
    this.files.set(path, { body, contentType });
  }
  async read(path: string, maxBytes: number) {
    const file = this.files.get(path);
    if (!file) return undefined;
    return file.body.byteLength > maxBytes ? ('too-large' as const) : file.body;
  }
  async downloadUrl(path: string, options: { expiresInSeconds: number; contentType: string }) {
    return `https://store.example/${path}?ttl=${options.expiresInSeconds}&type=${options.contentType}`;
  }
  async listPage(directory: string, pageToken: string | undefined): Promise<ArtifactListPage> {
    this.listCalls++;
    const base = directory === '' ? '' : `${directory}/`;
    const names = new Map<string, ArtifactEntry>();
    for (const [path, file] of this.files) {
      if (!path.startsWith(base)) continue;
      const rest = path.slice(base.length);
      const slash = rest.indexOf('/');
      if (slash === -1) names.set(rest, { name: rest, isDir: false, size: file.body.byteLength });
      else names.set(`${rest.slice(0, slash)}/`, { name: rest.slice(0, slash), isDir: true });
    }
    const all = [...names.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, entry]) => entry);
    const start = pageToken === undefined ? 0 : Number(pageToken);
    const end = start + this.pageSize;
    return {
      entries: all.slice(start, end),
      nextPageToken: end < all.length ? String(end) : undefined,
    };
  }
  async deleteTree(path: string) {
    for (const key of [...this.files.keys()]) {
      if (key === path || key.startsWith(`${path}/`)) this.files.delete(key);
    }
  }
  async startMultipartUpload(path: string) {
    const id = `upload-${this.uploads.size + 1}`;
    this.uploads.set(id, { path });
    return id;
  }
  async partUploadUrl(path: string, uploadId: string, partNumber: number) {
    const url = `https://store.example/${path}?uploadId=${uploadId}&partNumber=${partNumber}&`;
    return url.padEnd(this.urlLength, 'x');
  }
  async completeMultipartUpload(path: string, uploadId: string, parts: readonly UploadedPart[]) {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.path !== path) throw new ResourceDoesNotExistError('no such upload');
    upload.parts = parts;
  }
  async abortMultipartUpload(_path: string, uploadId: string) {
    this.aborted.push(uploadId);
    this.uploads.delete(uploadId);
  }
  /** Holds `s3://own-bucket/root/...`, as a store under a key prefix. */
  pathOf(uri: string) {
    const match = /^s3:\/\/own-bucket\/root(?:\/(.*))?$/.exec(uri);
    return match ? (match[1] ?? '') : undefined;
  }
}

const RUN_ROOTS: Record<string, string> = {
  known1: 'mlflow-artifacts:/3/known1/artifacts',
  elsewhere: 's3://another-bucket/x',
  inbucket: 's3://own-bucket/root/5/inbucket/artifacts',
  besideprefix: 's3://own-bucket/rootless/5/r/artifacts',
};
const runs: RunArtifactLocator = { artifactUri: async (runId) => RUN_ROOTS[runId] };

const MODEL = 'm-0123456789abcdef0123456789abcdef';
const loggedModels: LoggedModelArtifactLocator = {
  artifactLocation: async (modelId) =>
    modelId === MODEL ? `mlflow-artifacts:/3/models/${MODEL}/artifacts` : undefined,
};

const bytes = (size: number) => new Uint8Array(size).fill(7);

let store: MemoryStore;
let service: ArtifactService;

beforeEach(() => {
  store = new MemoryStore();
  service = new ArtifactService({ store, runs, loggedModels });
});

describe('ArtifactService uploads and downloads', () => {
  it('stores a file with the content type MLflow would serve it with', async () => {
    await service.upload('3/r/artifacts/MLmodel', bytes(3));
    await service.upload('3/r/artifacts/empty.bin', undefined);
    expect(store.files.get('3/r/artifacts/MLmodel')?.contentType).toBe('text/plain');
    expect(store.files.get('3/r/artifacts/empty.bin')?.body.byteLength).toBe(0);
  });

  it('refuses a body over the inline limit with 413, telling the client to use multipart upload', async () => {
    service = new ArtifactService({ store, runs, loggedModels, limits: { maxInlineUploadBytes: 10 } });
    await service.upload('a/exact.bin', bytes(10));
    const error = await service.upload('a/big.bin', bytes(11)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as PayloadTooLargeError).httpStatus).toBe(413);
    expect((error as Error).message).toContain('MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true');
    expect((error as Error).message).toContain('MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE=10');
    expect(store.files.has('a/big.bin')).toBe(false);
  });

  it('answers small files inline and larger ones by redirect, with MLflow headers either way', async () => {
    service = new ArtifactService({
      store,
      runs,
      loggedModels,
      limits: { maxInlineDownloadBytes: 5, downloadUrlTtlSeconds: 42 },
    });
    await store.write('a/small.json', bytes(5), 'text/plain');
    await store.write('a/large.png', bytes(6), 'image/png');
    expect(await service.download('a/small.json')).toEqual({
      kind: 'inline',
      body: bytes(5),
      contentType: 'text/plain',
      contentDisposition: 'attachment; filename=small.json',
    });
    expect(await service.download('a/large.png')).toEqual({
      kind: 'redirect',
      url: 'https://store.example/a/large.png?ttl=42&type=image/png',
    });
  });

  it('answers a missing file with 404 RESOURCE_DOES_NOT_EXIST (MLflow: 500)', async () => {
    await expect(service.download('a/missing.txt')).rejects.toBeInstanceOf(ResourceDoesNotExistError);
  });

  it('validates paths before touching the store', async () => {
    await expect(service.upload('a/../b', bytes(1))).rejects.toBeInstanceOf(InvalidParameterError);
    await expect(service.download('/etc/passwd')).rejects.toBeInstanceOf(InvalidParameterError);
    await expect(service.list('a/..')).rejects.toBeInstanceOf(InvalidParameterError);
    await expect(service.delete('..')).rejects.toBeInstanceOf(InvalidParameterError);
    expect(store.files.size).toBe(0);
    expect(store.listCalls).toBe(0);
  });
});

describe('ArtifactService listings', () => {
  beforeEach(async () => {
    for (const path of [
      '3/r/artifacts/b.txt',
      '3/r/artifacts/a/x.bin',
      '3/r/artifacts/a.txt',
      '3/r/artifacts/Z',
    ]) {
      await store.write(path, bytes(path.length), 'text/plain');
    }
  });

  it('lists one level, sorted by name in code-point order as MLflow sorts', async () => {
    expect(await service.list('3/r/artifacts')).toEqual([
      { name: 'Z', isDir: false, size: 15 },
      { name: 'a', isDir: true },
      { name: 'a.txt', isDir: false, size: 19 },
      { name: 'b.txt', isDir: false, size: 19 },
    ]);
    expect(await service.list('3/r/artifacts/')).toHaveLength(4);
    expect(await service.list(undefined)).toEqual([{ name: '3', isDir: true }]);
    expect(await service.list('3/r/artifacts/missing')).toEqual([]);
  });

  it('reads every page of a large directory', async () => {
    store = new MemoryStore(2);
    service = new ArtifactService({ store, runs, loggedModels });
    for (let i = 0; i < 7; i++) await store.write(`d/f${i}`, bytes(1), 'x');
    expect((await service.list('d')).map((entry) => entry.name)).toEqual([
      'f0',
      'f1',
      'f2',
      'f3',
      'f4',
      'f5',
      'f6',
    ]);
    expect(store.listCalls).toBe(4);
  });

  it('refuses rather than truncates a directory too large for one response', async () => {
    store = new MemoryStore(1000);
    service = new ArtifactService({ store, runs, loggedModels });
    // ~5,000 names of ~1 KB: more than the 4 MiB a listing response may carry.
    for (let i = 0; i < 5000; i++) await store.write(`big/${String(i).padStart(1000, '0')}`, bytes(1), 'x');
    const error = await service.list('big').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as Error).message).toContain('mlflow/artifacts/list');
  });

  it("lists a run's artifacts relative to its root, with its root URI", async () => {
    await store.write('3/known1/artifacts/model/MLmodel', bytes(4), 'text/plain');
    await store.write('3/known1/artifacts/model/data/w.bin', bytes(8), 'x');
    expect(await service.listRun('known1', undefined, undefined)).toEqual({
      rootUri: 'mlflow-artifacts:/3/known1/artifacts',
      files: [{ path: 'model', isDir: true }],
      nextPageToken: undefined,
    });
    expect(await service.listRun('known1', 'model', undefined)).toEqual({
      rootUri: 'mlflow-artifacts:/3/known1/artifacts',
      files: [
        { path: 'model/MLmodel', isDir: false, size: 4 },
        { path: 'model/data', isDir: true },
      ],
      nextPageToken: undefined,
    });
  });

  it("pages a run's artifacts when they exceed one response, with tokens bound to the listing", async () => {
    for (let i = 0; i < 5000; i++) {
      await store.write(`3/known1/artifacts/many/${String(i).padStart(1000, '0')}`, bytes(1), 'x');
    }
    const first = await service.listRun('known1', 'many', undefined);
    expect(first.nextPageToken).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await service.listRun('known1', 'many', first.nextPageToken);
    expect(second.nextPageToken).toBeUndefined();
    const paths = [...first.files, ...second.files].map((file) => file.path);
    expect(new Set(paths).size).toBe(5000);
    expect(paths[0]).toBe(`many/${'0'.repeat(1000)}`);
    await expect(service.listRun('known1', 'other', first.nextPageToken)).rejects.toThrow(
      /Invalid page token/,
    );
    await expect(service.listRun('known1', 'many', 'not-a-token')).rejects.toThrow(/Invalid page token/);
    await expect(service.listRun('known1', 'many', '!!')).rejects.toThrow(/Invalid page token/);
  });

  it('answers unknown runs with 404, bad run ids with 400, and foreign URIs with 501', async () => {
    await expect(service.listRun('unknown', undefined, undefined)).rejects.toBeInstanceOf(
      ResourceDoesNotExistError,
    );
    await expect(service.listRun('bad id!', undefined, undefined)).rejects.toBeInstanceOf(
      InvalidParameterError,
    );
    await expect(service.listRun('', undefined, undefined)).rejects.toBeInstanceOf(InvalidParameterError);
    await expect(service.listRun('elsewhere', undefined, undefined)).rejects.toBeInstanceOf(
      NotImplementedError,
    );
  });

  it("lists a run whose s3:// artifact URI lies in the store's own bucket and prefix, and only those", async () => {
    await store.write('5/inbucket/artifacts/model/MLmodel', bytes(2), 'text/plain');
    expect(await service.listRun('inbucket', 'model', undefined)).toEqual({
      rootUri: 's3://own-bucket/root/5/inbucket/artifacts',
      files: [{ path: 'model/MLmodel', isDir: false, size: 2 }],
      nextPageToken: undefined,
    });
    const beside = await service.listRun('besideprefix', undefined, undefined).catch((e: unknown) => e);
    expect(beside).toBeInstanceOf(NotImplementedError);
    expect((beside as Error).message).toContain("outside Runway's artifact store");
  });
});

describe('ArtifactService logged-model artifacts', () => {
  const root = `3/models/${MODEL}/artifacts`;

  it('lists a logged model relative to its artifact location, paged with tokens of its own', async () => {
    await store.write(`${root}/MLmodel`, bytes(3), 'text/plain');
    await store.write(`${root}/data/model.onnx`, bytes(5), 'x');
    expect(await service.listLoggedModel(MODEL, undefined, undefined)).toEqual({
      rootUri: `mlflow-artifacts:/${root}`,
      files: [
        { path: 'MLmodel', isDir: false, size: 3 },
        { path: 'data', isDir: true },
      ],
      nextPageToken: undefined,
    });
    expect((await service.listLoggedModel(MODEL, 'data/', undefined)).files).toEqual([
      { path: 'data/model.onnx', isDir: false, size: 5 },
    ]);
    for (let i = 0; i < 5000; i++)
      await store.write(`${root}/many/${String(i).padStart(1000, '0')}`, bytes(1), 'x');
    const first = await service.listLoggedModel(MODEL, 'many', undefined);
    expect(first.nextPageToken).toBeDefined();
    const second = await service.listLoggedModel(MODEL, 'many', first.nextPageToken);
    expect(first.files.length + second.files.length).toBe(5000);
    // A model's token is not a run's, even for the same path.
    await expect(service.listRun('known1', 'many', first.nextPageToken)).rejects.toThrow(
      /Invalid page token/,
    );
  });

  it('downloads a logged-model file by its path below the model root', async () => {
    await store.write(`${root}/MLmodel`, bytes(3), 'text/plain');
    const download = await service.downloadLoggedModelFile(MODEL, 'MLmodel');
    expect(download).toMatchObject({ kind: 'inline', contentType: 'text/plain' });
    await expect(service.downloadLoggedModelFile(MODEL, 'missing')).rejects.toBeInstanceOf(
      ResourceDoesNotExistError,
    );
  });

  it('answers 404 for unknown models and malformed ids, 400 for escaping paths', async () => {
    for (const id of ['m-ffffffffffffffffffffffffffffffff', 'not-a-model', '']) {
      await expect(service.listLoggedModel(id, undefined, undefined)).rejects.toBeInstanceOf(
        ResourceDoesNotExistError,
      );
    }
    for (const path of ['../x', '/abs', 'a/../../b', 'a\\b']) {
      await expect(service.listLoggedModel(MODEL, path, undefined)).rejects.toBeInstanceOf(
        InvalidParameterError,
      );
      await expect(service.downloadLoggedModelFile(MODEL, path)).rejects.toBeInstanceOf(
        InvalidParameterError,
      );
    }
  });
});

describe('ArtifactService deletes', () => {
  it('deletes a file or a directory tree, never a namesake, and succeeds when nothing is there', async () => {
    for (const path of ['d/a', 'd/a/x', 'd/a/y/z', 'd/a.txt', 'd/ab']) await store.write(path, bytes(1), 'x');
    await service.delete('d/a');
    expect([...store.files.keys()].sort()).toEqual(['d/a.txt', 'd/ab']);
    await service.delete('d/nothing');
    await expect(service.delete('')).rejects.toBeInstanceOf(InvalidParameterError);
  });
});

describe('ArtifactService multipart uploads', () => {
  it('creates an upload of <directory>/<basename of the client path> with one URL per part', async () => {
    const upload = await service.createMultipartUpload('3/r/artifacts/model', '/tmp/abc/weights.bin', 3);
    expect(upload.uploadId).toBe('upload-1');
    expect(upload.credentials.map((c) => c.partNumber)).toEqual([1, 2, 3]);
    expect(upload.credentials[2]?.url).toContain(
      '3/r/artifacts/model/weights.bin?uploadId=upload-1&partNumber=3',
    );
    expect(upload.credentials.every((c) => Object.keys(c.headers).length === 0)).toBe(true);
    expect(store.uploads.get('upload-1')?.path).toBe('3/r/artifacts/model/weights.bin');
  });

  it.each([0, -1, 10_001, 1.5])('refuses num_parts=%d', async (numParts) => {
    await expect(service.createMultipartUpload('d', 'f.bin', numParts)).rejects.toThrow(/num_parts/);
    expect(store.uploads.size).toBe(0);
  });

  it('refuses (and aborts) an upload whose URLs would not fit in a Lambda response', async () => {
    store.urlLength = 2000;
    const error = await service.createMultipartUpload('d', 'f.bin', 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as Error).message).toMatch(/at most \d+ parts fit in one response/);
    expect(store.aborted).toEqual(['upload-1']);
    const fits = Number(/at most (\d+) parts/.exec((error as Error).message)?.[1]);
    await expect(service.createMultipartUpload('d', 'f.bin', fits)).resolves.toBeDefined();
  });

  it('completes with parts sorted by number, and refuses empty, repeated or invalid parts', async () => {
    const { uploadId } = await service.createMultipartUpload('d', 'f.bin', 3);
    const parts = [
      { partNumber: 3, etag: '"c"' },
      { partNumber: 1, etag: '"a"' },
      { partNumber: 2, etag: '"b"' },
    ];
    await expect(service.completeMultipartUpload('d', 'f.bin', uploadId, [])).rejects.toThrow(/'parts'/);
    await expect(
      service.completeMultipartUpload('d', 'f.bin', uploadId, [...parts, { partNumber: 1, etag: '"a"' }]),
    ).rejects.toThrow(/listed twice/);
    await expect(
      service.completeMultipartUpload('d', 'f.bin', uploadId, [{ partNumber: 0, etag: '"a"' }]),
    ).rejects.toThrow(/part_number/);
    await expect(
      service.completeMultipartUpload('d', 'f.bin', uploadId, [{ partNumber: 1, etag: ' ' }]),
    ).rejects.toThrow(/etag/);
    await expect(service.completeMultipartUpload('d', 'f.bin', '', parts)).rejects.toThrow(/'upload_id'/);
    await service.completeMultipartUpload('d', 'f.bin', uploadId, parts);
    expect(store.uploads.get(uploadId)?.parts?.map((p) => p.partNumber)).toEqual([1, 2, 3]);
  });

  it('aborts through the store, validating the path and upload id first', async () => {
    const { uploadId } = await service.createMultipartUpload('d', '/x/f.bin', 1);
    await expect(service.abortMultipartUpload('d/..', '/x/f.bin', uploadId)).rejects.toBeInstanceOf(
      InvalidParameterError,
    );
    await service.abortMultipartUpload('d', '/x/f.bin', uploadId);
    expect(store.aborted).toEqual([uploadId]);
  });
});
