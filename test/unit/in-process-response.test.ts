import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { InProcessResponse } from '../../infra/local/in-process-response.ts';

const request = (method: string) => Object.assign(new EventEmitter(), { method }) as IncomingMessage;

async function bodyOf(response: InProcessResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('InProcessResponse (an in-process origin answer, read as an IncomingMessage)', () => {
  it('merges setHeader and writeHead headers (writeHead wins), lower-cases names and settles head', async () => {
    const response = new InProcessResponse(request('GET'));
    response.setHeader('ETag', '"a"');
    response.setHeader('Content-Type', 'text/plain');
    response.writeHead(404, { 'Content-Type': 'application/xml', 'Content-Length': 3 });
    response.end('<x>');
    await response.head;
    expect(response.statusCode).toBe(404);
    expect(response.statusMessage).toBe('Not Found');
    expect(response.headers).toEqual({
      etag: '"a"',
      'content-type': 'application/xml',
      'content-length': '3',
    });
    expect(() => response.setHeader('x', '1')).toThrow(/after the headers/);
    expect(await bodyOf(response)).toBe('<x>');
  });

  it('sends the head with the first byte of a piped body, status 200 by default', async () => {
    const response = new InProcessResponse(request('GET'));
    const piping = pipeline(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), response);
    await response.head;
    expect(response.statusCode).toBe(200);
    expect(await bodyOf(response)).toBe('abcd');
    await piping;
  });

  it('drops the body of a HEAD response, as ServerResponse does', async () => {
    const response = new InProcessResponse(request('HEAD'));
    response.setHeader('Content-Length', '4');
    response.end('body');
    await response.head;
    expect(response.headers['content-length']).toBe('4');
    expect(await bodyOf(response)).toBe('');
  });

  it('rejects head when the origin cuts the response before its headers', async () => {
    const response = new InProcessResponse(request('PUT'));
    response.destroy();
    await expect(response.head).rejects.toThrow(/closed the response before its headers/);
  });
});
