import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

type AttributeValue = Record<string, unknown>;
type Request = Record<string, unknown> & {
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
};

/** The parts of dynalite's `validations` module (`dynalite/validations/index.js`) used here. */
interface DynaliteValidations {
  validateExpressions(data: Request, ...rest: unknown[]): string | undefined;
  validateAttributeValue(value: AttributeValue): string | undefined;
}

/** The request fields the expressions parse into (dynalite's names), and the expressions themselves. */
const PARSED = {
  UpdateExpression: '_updates',
  ConditionExpression: '_condition',
  KeyConditionExpression: '_keyCondition',
  FilterExpression: '_filter',
  ProjectionExpression: '_projection',
} as const;

/**
 * Expressions whose checks read values' contents, not only their types (BETWEEN compares its bounds,
 * attribute_type reads its type name): parsed every time.
 */
const READS_VALUES = /between|attribute_type/i;

/** Far more shapes than an app sends; past it the cache starts again (a bound, not a policy). */
const MAX_TEMPLATES = 2000;

/** A value's place in a parsed expression, to be filled with the request's own value. */
interface ValueSlot {
  readonly [SLOT]: string;
}
const SLOT = Symbol('runway.expression-value');

/**
 * Makes dynalite parse each expression shape once: its PEG parsers took most of a conditional
 * UpdateItem's time (about 0.4 of 0.54 ms of CPU here) and a Query's, and an app sends the same few
 * shapes with new values. A shape is the expressions' text, the attribute names and each value's key
 * and type (what dynalite's checks read). The first request of a shape parses as before; its parse
 * trees are kept with each value replaced by a slot, and a later request of the shape gets copies
 * with its own values in the slots, after the same per-value checks. Requests that fail validation,
 * and expressions whose checks read values' contents, are never cached, so every error is dynalite's own.
 */
export function installExpressionTemplates(): void {
  const validationsPath = path.join(path.dirname(require.resolve('dynalite')), 'validations', 'index.js');
  const validations = require(validationsPath) as DynaliteValidations & { [INSTALLED]?: true };
  if (validations[INSTALLED]) return;
  const parse = validations.validateExpressions;
  const templates = new Map<string, Array<[string, unknown]>>();

  validations.validateExpressions = (data: Request, ...rest: unknown[]) => {
    const key = shapeOf(data);
    const template = key === undefined ? undefined : templates.get(key);
    if (template) {
      const values = data.ExpressionAttributeValues ?? {};
      for (const [name, value] of Object.entries(values)) {
        const problem = validations.validateAttributeValue(value);
        if (problem) return `ExpressionAttributeValues contains invalid value: ${problem} for key ${name}`;
      }
      for (const [field, tree] of template) data[field] = fill(tree, values);
      return undefined;
    }
    const problem = parse(data, ...rest);
    if (problem === undefined && key !== undefined) {
      if (templates.size >= MAX_TEMPLATES) templates.clear();
      templates.set(key, captureTemplate(data));
    }
    return problem;
  };
  validations[INSTALLED] = true;
  (validations as unknown as Record<symbol, unknown>)[PARSE_EVERY_TIME] = parse;
}

/** dynalite's own `validateExpressions`, kept on its module under this key (tests compare both). */
export const PARSE_EVERY_TIME = Symbol.for('runway.local-dynamodb.parse-every-time');

/** The request's expression shape, or undefined when it has no expression or one reads values. */
function shapeOf(data: Request): string | undefined {
  const expressions: Array<string | null> = [];
  let any = false;
  for (const field of Object.keys(PARSED)) {
    const expression = data[field];
    if (typeof expression === 'string') {
      if (READS_VALUES.test(expression)) return undefined;
      any = true;
      expressions.push(expression);
    } else {
      // A present non-string (a type error dynalite reports) or an absent field.
      if (expression != null) return undefined;
      expressions.push(null);
    }
  }
  if (!any) return undefined;
  const types: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(data.ExpressionAttributeValues ?? {})) {
    const type = value && typeof value === 'object' ? immediateType(value) : undefined;
    if (type === undefined) return undefined;
    types.push([name, type]);
  }
  return JSON.stringify([expressions, data.ExpressionAttributeNames ?? null, types]);
}

/** dynalite's `getImmediateType`: the first type key present. */
function immediateType(value: AttributeValue): string | undefined {
  for (const type of ['S', 'N', 'B', 'NULL', 'BOOL', 'SS', 'NS', 'BS', 'L', 'M']) {
    if (value[type] != null) return type;
  }
  return undefined;
}

/** The parsed fields of `data`, each value object it refers to replaced by a slot naming it. */
function captureTemplate(data: Request): Array<[string, unknown]> {
  const slots = new Map<unknown, ValueSlot>();
  for (const [name, value] of Object.entries(data.ExpressionAttributeValues ?? {})) {
    slots.set(value, { [SLOT]: name });
  }
  const copy = (node: unknown): unknown => {
    const slot = slots.get(node);
    if (slot) return slot;
    if (Array.isArray(node)) return node.map(copy);
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(node)) out[key] = copy(value);
      return out;
    }
    return node;
  };
  const template: Array<[string, unknown]> = [];
  for (const field of Object.values(PARSED)) {
    if (data[field] !== undefined) template.push([field, copy(data[field])]);
  }
  return template;
}

/** A fresh copy of a template with this request's values in its slots (dynalite may change trees). */
function fill(node: unknown, values: Record<string, AttributeValue>): unknown {
  if (Array.isArray(node)) return node.map((item) => fill(item, values));
  if (node && typeof node === 'object') {
    const slot = (node as Partial<ValueSlot>)[SLOT];
    if (slot !== undefined) return values[slot];
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) out[key] = fill(value, values);
    return out;
  }
  return node;
}

/** Marks dynalite's module once patched (a registry symbol: the same in every instance of this file). */
const INSTALLED = Symbol.for('runway.local-dynamodb.expression-templates');
