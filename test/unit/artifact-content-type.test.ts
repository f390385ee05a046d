import { describe, expect, it } from 'vitest';
import { attachmentDisposition, guessContentType } from '../../shared/tracking/artifacts/content-type.ts';

describe('artifact content types (MLflow _guess_mime_type)', () => {
  it.each([
    ['MLmodel', 'text/plain'],
    ['MLproject', 'text/plain'],
    ['requirements.txt', 'text/plain'],
    ['conda.yaml', 'text/plain'],
    ['metrics.json', 'text/plain'],
    ['data.csv', 'text/plain'],
    ['train.log', 'text/plain'],
    ['script.py', 'text/plain'],
    ['README.md', 'text/plain'],
    ['plot.png', 'image/png'],
    ['photo.JPG', 'image/jpeg'],
    ['chart.svg', 'image/svg+xml'],
    ['report.html', 'text/html'],
    ['paper.pdf', 'application/pdf'],
    ['bundle.zip', 'application/zip'],
    ['model.tar.gz', 'application/x-tar'],
    ['model.tgz', 'application/x-tar'],
    ['table.csv.gz', 'text/csv'],
    ['weights.gz', 'application/octet-stream'],
    ['model.pkl', 'application/octet-stream'],
    ['model.onnx', 'application/octet-stream'],
    ['Makefile', 'application/octet-stream'],
    ['.bashrc', 'application/octet-stream'],
  ])('%s is %s', (name, type) => {
    expect(guessContentType(name)).toBe(type);
  });

  it('keeps MLflow text extensions case-sensitive, as MLflow does (TXT falls to mimetypes)', () => {
    expect(guessContentType('NOTES.TXT')).toBe('text/plain');
    expect(guessContentType('mlmodel')).toBe('application/octet-stream');
  });
});

describe('content-disposition', () => {
  it('writes a plain name bare, as MLflow does', () => {
    expect(attachmentDisposition('model.pkl')).toBe('attachment; filename=model.pkl');
    expect(attachmentDisposition('100%+1.txt')).toBe('attachment; filename=100%+1.txt');
  });

  it('quotes other names with an ASCII fallback and the full name as RFC 6266 filename*', () => {
    const header = attachmentDisposition('ünï "q" (1).txt');
    expect(header).toBe(
      `attachment; filename="_n_ _q_ (1).txt"; filename*=UTF-8''%C3%BCn%C3%AF%20%22q%22%20%281%29.txt`,
    );
    // Header values must be ASCII for Lambda and HTTP alike.
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    const encoded = /filename\*=UTF-8''(.*)$/.exec(header)?.[1] ?? '';
    expect(decodeURIComponent(encoded)).toBe('ünï "q" (1).txt');
  });
});
