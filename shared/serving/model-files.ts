import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ModelLoadError } from './errors.ts';

/**
 * Where a model directory's files are read from: S3 (`s3://bucket/prefix`, what the registry stores
 * as a version's storage location) or, for tools and tests on one machine, a local directory
 * (`file:///...` or an absolute path).
 */
export interface ModelFiles {
  /** The location as given, for messages. */
  readonly location: string;
  /** A file's bytes, relative to the model directory; undefined when it does not exist. */
  read(relativePath: string, maxBytes: number): Promise<Uint8Array | undefined>;
}

export function modelFilesAt(storageLocation: string, s3: () => S3Client): ModelFiles {
  if (storageLocation.startsWith('s3://')) return new S3ModelFiles(storageLocation, s3);
  if (storageLocation.startsWith('file://'))
    return new LocalModelFiles(storageLocation, fileURLToPath(storageLocation));
  if (path.isAbsolute(storageLocation)) return new LocalModelFiles(storageLocation, storageLocation);
  throw new ModelLoadError(
    `Unsupported model location '${storageLocation.slice(0, 200)}': expected s3://bucket/prefix`,
  );
}

class S3ModelFiles implements ModelFiles {
  private readonly bucket: string;
  private readonly prefix: string;
  constructor(
    readonly location: string,
    private readonly s3: () => S3Client,
  ) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
    if (!match?.[1]) throw new ModelLoadError(`Malformed model location '${location.slice(0, 200)}'`);
    this.bucket = match[1];
    this.prefix = (match[2] ?? '').replace(/\/+$/, '');
  }

  async read(relativePath: string, maxBytes: number): Promise<Uint8Array | undefined> {
    const key = this.prefix ? `${this.prefix}/${relativePath}` : relativePath;
    try {
      const object = await this.s3().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if ((object.ContentLength ?? 0) > maxBytes) {
        object.Body?.transformToWebStream().cancel();
        throw tooLarge(this.location, relativePath, object.ContentLength ?? 0, maxBytes);
      }
      if (!object.Body) return new Uint8Array();
      return await readWhole(object.Body.transformToWebStream(), object.ContentLength, relativePath);
    } catch (error) {
      if (error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound'))
        return undefined;
      throw error;
    }
  }
}

class LocalModelFiles implements ModelFiles {
  constructor(
    readonly location: string,
    private readonly directory: string,
  ) {}

  async read(relativePath: string, maxBytes: number): Promise<Uint8Array | undefined> {
    const file = path.join(this.directory, relativePath);
    try {
      const size = (await stat(file)).size;
      if (size > maxBytes) throw tooLarge(this.location, relativePath, size, maxBytes);
      return new Uint8Array(await readFile(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/**
 * A body read into one buffer of its declared length, chunk by chunk as it arrives: a model file of
 * 100 MB costs 100 MB, not twice that (concatenating the chunks at the end would).
 */
async function readWhole(
  body: ReadableStream<Uint8Array>,
  declared: number | undefined,
  file: string,
): Promise<Uint8Array> {
  if (declared === undefined) return new Uint8Array(await new Response(body).arrayBuffer());
  const out = new Uint8Array(declared);
  let at = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    if (at + chunk.byteLength > declared) {
      throw new ModelLoadError(`${file} came with more than its declared ${declared} bytes`);
    }
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  if (at !== declared) throw new ModelLoadError(`${file} ended after ${at} of its ${declared} bytes`);
  return out;
}

/** A file of the model directory over what may be read of it. */
export class ModelFileTooLargeError extends ModelLoadError {
  constructor(
    readonly file: string,
    readonly size: number,
    location: string,
    max: number,
  ) {
    super(
      `${file} in ${location} is ${size} bytes; the Lambda model server loads at most ${max} bytes (deploy larger models to SageMaker)`,
    );
  }
}

function tooLarge(location: string, file: string, size: number, max: number): ModelLoadError {
  return new ModelFileTooLargeError(file, size, location, max);
}
