/**
 * The little XML the S3 REST API needs: building response documents, and parsing the handful of
 * small request documents (`Delete`, `CompleteMultipartUpload`). A hand-written parser rather than
 * a dependency because these documents are flat, tiny and fully specified; it rejects DOCTYPEs so
 * no entity expansion can ever happen.
 */
import { S3Errors } from './s3-errors.ts';

/** The namespace S3 puts on every response document. */
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/**
 * Escapes text for element content. Control characters (legal in S3 keys, not in XML text) become
 * numeric references, as S3 itself writes them, so a key such as `a\nb` survives the round trip.
 */
export function escapeXml(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000d\u000e-\u001f\u007f]/g, (c) => {
    return ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;
  });
}

/** A child element: `[name, content]` where content is escaped text, nested children, or omitted. */
export type XmlChild = readonly [name: string, content: XmlContent] | undefined | false;
/** Text (escaped on output) or nested children; `undefined` children are skipped. */
export type XmlContent = string | number | boolean | readonly XmlChild[];

/** Renders one element and its children. */
export function renderElement(name: string, content: XmlContent, attributes = ''): string {
  if (typeof content !== 'object') return `<${name}${attributes}>${escapeXml(String(content))}</${name}>`;
  let inner = '';
  for (const child of content) {
    if (child) inner += renderElement(child[0], child[1]);
  }
  return `<${name}${attributes}>${inner}</${name}>`;
}

/** Renders a complete response document, by default with S3's namespace on the root element. */
export function renderDocument(root: string, children: readonly XmlChild[], namespaced = true): string {
  const attributes = namespaced ? ` xmlns="${S3_XMLNS}"` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n${renderElement(root, children, attributes)}`;
}

/** A parsed element: local name (namespace prefix dropped), child elements and direct text. */
export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  text: string;
}

const TOKEN =
  /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!([^>]*)>|<\/([^\s>]+)\s*>|<([^\s/>!?]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>|([^<]+)/y;

/** Parses a request document; throws S3's `MalformedXML` on anything that is not well-formed. */
export function parseXml(source: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    const m = TOKEN.exec(source);
    if (!m) throw S3Errors.malformedXML();
    const [, cdata, declaration, closing, opening, selfClosing, text] = m;
    const top = stack.at(-1);
    if (declaration !== undefined) throw S3Errors.malformedXML(); // DOCTYPE & co: never needed, never trusted.
    if (cdata !== undefined || text !== undefined) {
      if (top) top.text += cdata ?? decodeEntities(text ?? '');
      else if ((text ?? cdata ?? '').trim() !== '') throw S3Errors.malformedXML();
    } else if (opening !== undefined) {
      if (!top && root) throw S3Errors.malformedXML();
      const element: XmlElement = { name: localName(opening), children: [], text: '' };
      if (top) top.children.push(element);
      else root = element;
      if (selfClosing !== '/') stack.push(element);
    } else if (closing !== undefined) {
      if (!top || top.name !== localName(closing)) throw S3Errors.malformedXML();
      stack.pop();
    }
  }
  if (!root || stack.length > 0) throw S3Errors.malformedXML();
  return root;
}

/** The children of `element` named `name`. */
export function childElements(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

/** The text of the first child named `name`, if there is one. */
export function childText(element: XmlElement, name: string): string | undefined {
  return element.children.find((child) => child.name === name)?.text;
}

function localName(qualified: string): string {
  const colon = qualified.indexOf(':');
  return colon < 0 ? qualified : qualified.slice(colon + 1);
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (_whole, entity: string) => {
    if (entity.startsWith('#x')) return safeCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return safeCodePoint(Number.parseInt(entity.slice(1), 10));
    const named = NAMED_ENTITIES[entity];
    if (named === undefined) throw S3Errors.malformedXML();
    return named;
  });
}

function safeCodePoint(codePoint: number): string {
  if (!Number.isInteger(codePoint) || codePoint < 0 || codePoint > 0x10ffff) throw S3Errors.malformedXML();
  return String.fromCodePoint(codePoint);
}
