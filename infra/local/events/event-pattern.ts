/**
 * EventBridge event-pattern matching for Runway's local runtime.
 *
 * The local event bus delivers each event to every rule whose pattern matches, so this module must
 * agree with AWS on two things: which patterns PutRule accepts (anything else throws
 * {@link InvalidEventPatternError}, where AWS answers InvalidEventPatternException) and which events
 * a pattern matches. EventBridge matches with AWS's open-source Event Ruler; where the EventBridge
 * documentation is silent, this module follows Ruler, and the comments say so.
 *
 * Semantics, in short:
 * - A pattern object is a conjunction: every field in it must match. A field holds either a nested
 *   pattern object or a non-empty array of match values, any one of which may match.
 * - `$or` holds two or more sub-patterns, at least one of which must match the same event object.
 * - Match values test leaf values (strings, numbers, booleans, null). Where the event holds an
 *   array, a value matches if any element does; arrays nest.
 * - Matching is array-consistent (Ruler's `rulesForJSONEvent`): the fields of one nested pattern
 *   must all come from the same element of an event array, never from two different elements.
 * - `{"exists": false}` is the only condition satisfied by a missing field. It sees only the array
 *   elements that the other fields of its branch picked; a branch made of nothing but absences picks
 *   no element, so it needs the field to be missing from every element. That is why every rule below
 *   answers two questions, {@link Rule.present} and {@link Rule.absent}.
 *
 * A pattern is validated and compiled once into closures; matching an event re-parses nothing.
 */

/** Thrown for a pattern AWS would reject (PutRule answers InvalidEventPatternException). */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
}

/** A pattern validated and compiled once, to be matched against any number of events. */
export interface CompiledEventPattern {
  /**
   * Whether the event matches. `event` is a parsed event (an EventBridge envelope whose `detail`
   * is an object, not a JSON string); anything but a JSON object never matches.
   */
  matches(event: unknown): boolean;
}

/**
 * Validates and compiles a pattern (object or JSON string) once; throws InvalidEventPatternError.
 *
 * @param pattern - an event pattern, as an object or as the JSON text PutRule takes.
 * @returns a matcher to reuse for every event the pattern is evaluated against.
 * @throws {@link InvalidEventPatternError} when AWS would reject the pattern.
 */
export function compileEventPattern(pattern: unknown): CompiledEventPattern {
  const source = typeof pattern === 'string' ? parsePatternText(pattern) : pattern;
  if (!isJsonObject(source)) fail([], 'an event pattern must be a JSON object');
  const root = compileObject(source, [], false);
  return {
    matches: (event) => isJsonObject(event) && (root.present(event) || root.absent([event])),
  };
}

/**
 * Convenience: compile + match.
 *
 * Compiles on every call; code that tests one pattern against many events should keep the result of
 * {@link compileEventPattern} instead.
 *
 * @throws {@link InvalidEventPatternError} when AWS would reject the pattern.
 */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern).matches(event);
}

// ---------------------------------------------------------------------------------------------------
// Compiled pattern structure
// ---------------------------------------------------------------------------------------------------

/** A leaf value of an event: what match values and operators test. */
type Leaf = string | number | boolean | null;

/** A compiled positive condition on one leaf value. */
type LeafTest = (value: Leaf) => boolean;

/** What one match value compiles to: a test that needs a leaf, or `{"exists": false}`. */
type Condition = { readonly kind: 'test'; readonly test: LeafTest } | { readonly kind: 'absent' };

/** Path of a pattern node, for error messages. */
type Path = readonly string[];

type JsonObject = { readonly [key: string]: unknown };

/**
 * A compiled piece of a pattern (a field, an object, a `$or`). A pattern reads as a set of
 * alternative branches (the expansion of every array of values and every `$or`), and each question
 * is about the branches of this piece.
 */
interface Rule {
  /**
   * Whether some branch with at least one positive condition holds at `node`. Positive conditions
   * pick array elements: at an event array this asks each element in turn.
   */
  present(node: unknown): boolean;
  /**
   * Whether some branch made only of `{"exists": false}` holds across all of `nodes` together
   * (sibling array elements that no positive condition picked).
   */
  absent(nodes: readonly unknown[]): boolean;
  /** False when no branch is absence-only, so {@link Rule.absent} can answer without looking. */
  readonly mayBeAbsent: boolean;
}

/** A field whose pattern is an array of match values. */
class LeafField implements Rule {
  constructor(
    private readonly key: string,
    private readonly tests: readonly LeafTest[],
    readonly mayBeAbsent: boolean,
  ) {}

  present(node: unknown): boolean {
    const value = childOf(node, this.key);
    return value !== undefined && someLeaf(value, (leaf) => this.tests.some((test) => test(leaf)));
  }

  absent(nodes: readonly unknown[]): boolean {
    return this.mayBeAbsent && !collectChildren(nodes, this.key).some(hasLeaf);
  }
}

/** A field whose pattern is a nested pattern object. */
class NestedField implements Rule {
  readonly mayBeAbsent: boolean;

  constructor(
    private readonly key: string,
    private readonly pattern: ObjectRule,
  ) {
    this.mayBeAbsent = pattern.mayBeAbsent;
  }

  present(node: unknown): boolean {
    const value = childOf(node, this.key);
    return value !== undefined && this.pattern.present(value);
  }

  absent(nodes: readonly unknown[]): boolean {
    return this.mayBeAbsent && this.pattern.absent(collectChildren(nodes, this.key));
  }
}

/** A pattern object: all of its fields and `$or` groups must hold on the same event object. */
class ObjectRule implements Rule {
  readonly mayBeAbsent: boolean;

  constructor(private readonly parts: readonly Rule[]) {
    this.mayBeAbsent = parts.every((part) => part.mayBeAbsent);
  }

  present(node: unknown): boolean {
    // Array consistency: all fields of this object must be found in one element.
    if (Array.isArray(node)) return node.some((element) => this.present(element));
    // A branch of a conjunction takes one branch of every part; it is positive when any part's is.
    // The parts that are not positive must then hold as absences, seen from this same node.
    let positive = false;
    for (const part of this.parts) {
      if (part.present(node)) positive = true;
      else if (!(part.mayBeAbsent && part.absent([node]))) return false;
    }
    return positive;
  }

  absent(nodes: readonly unknown[]): boolean {
    return this.mayBeAbsent && this.parts.every((part) => part.absent(nodes));
  }
}

/** A `$or`: any one of its sub-patterns, evaluated on the object that holds the `$or`. */
class OrRule implements Rule {
  readonly mayBeAbsent: boolean;

  constructor(private readonly branches: readonly ObjectRule[]) {
    this.mayBeAbsent = branches.some((branch) => branch.mayBeAbsent);
  }

  present(node: unknown): boolean {
    return this.branches.some((branch) => branch.present(node));
  }

  absent(nodes: readonly unknown[]): boolean {
    return this.mayBeAbsent && this.branches.some((branch) => branch.absent(nodes));
  }
}

// ---------------------------------------------------------------------------------------------------
// Walking events
// ---------------------------------------------------------------------------------------------------

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLeaf(value: unknown): value is Leaf {
  return (
    value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
  );
}

/** The event's own property `key` (never an inherited one such as `constructor`), if any. */
function childOf(node: unknown, key: string): unknown {
  return isJsonObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
}

/** Whether a leaf in `value`, looking through nested arrays, passes `test`. Objects are no leaves. */
function someLeaf(value: unknown, test: (leaf: Leaf) => boolean): boolean {
  if (Array.isArray(value)) return value.some((element) => someLeaf(element, test));
  return isLeaf(value) && test(value);
}

function hasLeaf(value: unknown): boolean {
  return someLeaf(value, () => true);
}

/** The `key` children of every object in `nodes`, looking through arrays. */
function collectChildren(nodes: readonly unknown[], key: string, into: unknown[] = []): unknown[] {
  for (const node of nodes) {
    if (Array.isArray(node)) {
      collectChildren(node, key, into);
    } else {
      const child = childOf(node, key);
      if (child !== undefined) into.push(child);
    }
  }
  return into;
}

// ---------------------------------------------------------------------------------------------------
// Compiling pattern objects
// ---------------------------------------------------------------------------------------------------

const OR_KEY = '$or';

/**
 * Names Ruler refuses as field names inside `$or` (its RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP),
 * which catches operators written directly into a `$or` branch, as in `{"$or": [{"prefix": ...}]}`.
 */
const RESERVED_IN_OR: ReadonlySet<string> = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

function fail(path: Path, message: string): never {
  const where = path.length === 0 ? '' : ` at "${path.join('.')}"`;
  throw new InvalidEventPatternError(`Invalid event pattern${where}: ${message}`);
}

function parsePatternText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidEventPatternError(`Invalid event pattern: not valid JSON (${reason})`);
  }
}

function compileObject(pattern: JsonObject, path: Path, insideOr: boolean): ObjectRule {
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail(path, 'empty objects are not allowed');
  return new ObjectRule(keys.map((key) => compileField(key, pattern[key], path, insideOr)));
}

function compileField(key: string, value: unknown, parent: Path, insideOr: boolean): Rule {
  if (key === OR_KEY) return compileOr(value, parent);
  const path = [...parent, key];
  if (insideOr && RESERVED_IN_OR.has(key)) {
    fail(path, `"${key}" is a reserved operator name and cannot be a field name inside "$or"`);
  }
  if (isJsonObject(value)) return new NestedField(key, compileObject(value, path, insideOr));
  if (Array.isArray(value)) return compileLeafField(key, value, path);
  return fail(path, 'a field must hold an object or an array of match values');
}

function compileOr(value: unknown, path: Path): OrRule {
  const where = [...path, OR_KEY];
  if (!Array.isArray(value)) fail(where, '"$or" must hold an array of pattern objects');
  if (value.length < 2) fail(where, '"$or" needs at least 2 pattern objects');
  const branches = value.map((branch: unknown) => {
    if (!isJsonObject(branch)) return fail(where, 'every entry of "$or" must be a pattern object');
    // Sub-patterns of `$or` address fields of the object that holds the `$or`, not a `$or` field.
    return compileObject(branch, path, true);
  });
  return new OrRule(branches);
}

function compileLeafField(key: string, values: readonly unknown[], path: Path): LeafField {
  if (values.length === 0) fail(path, 'empty arrays are not allowed');
  const tests: LeafTest[] = [];
  let mayBeAbsent = false;
  for (const value of values) {
    const condition = compileMatchValue(value, path);
    if (condition.kind === 'absent') mayBeAbsent = true;
    else tests.push(condition.test);
  }
  return new LeafField(key, tests, mayBeAbsent);
}

function passes(test: LeafTest): Condition {
  return { kind: 'test', test };
}

function compileMatchValue(value: unknown, path: Path): Condition {
  if (typeof value === 'string') return passes(exactString(value));
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(path, `${value} is not a JSON number`);
    // Ruler compares the number itself as well as its text, so [300] matches 300, 300.0 and 3.0e2.
    return passes((leaf) => leaf === value);
  }
  if (typeof value === 'boolean' || value === null) return passes((leaf) => leaf === value);
  if (isJsonObject(value)) return compileOperator(value, path);
  return fail(path, 'match values must be strings, numbers, true, false, null or operator objects');
}

/**
 * An exact string. A string that is an IP address literal matches that address in any spelling
 * (Ruler turns it into a one-address range), so "2001:db8::1" matches "2001:0DB8:0:0:0:0:0:1".
 */
function exactString(expected: string): LeafTest {
  const address = parseIpAddress(expected);
  if (address === undefined) return (leaf) => leaf === expected;
  return (leaf) =>
    leaf === expected || (typeof leaf === 'string' && sameAddress(parseIpAddress(leaf), address));
}

// ---------------------------------------------------------------------------------------------------
// Operators
// ---------------------------------------------------------------------------------------------------

type OperatorCompiler = (operand: unknown, path: Path) => Condition;

const OPERATORS: ReadonlyMap<string, OperatorCompiler> = new Map<string, OperatorCompiler>([
  ['prefix', (operand, path) => passes(compileAffix(operand, path, 'prefix'))],
  ['suffix', (operand, path) => passes(compileAffix(operand, path, 'suffix'))],
  [
    'equals-ignore-case',
    (operand, path) => passes(ignoringCase(requireString(operand, path, 'equals-ignore-case'), 'whole')),
  ],
  ['wildcard', (operand, path) => passes(wildcardTest(requireString(operand, path, 'wildcard'), path))],
  ['anything-but', (operand, path) => passes(compileAnythingBut(operand, path))],
  ['numeric', (operand, path) => passes(compileNumeric(operand, path))],
  ['exists', compileExists],
  ['cidr', (operand, path) => passes(compileCidr(requireString(operand, path, 'cidr'), path))],
]);

function compileOperator(expression: JsonObject, path: Path): Condition {
  const [name, ...others] = Object.keys(expression);
  if (name === undefined)
    fail(path, 'empty match expression; expected an operator such as {"prefix": "..."}');
  if (others.length > 0)
    fail(path, `a match expression takes exactly one operator, found ${quoteAll([name, ...others])}`);
  const compile = OPERATORS.get(name);
  if (compile === undefined) {
    fail(path, `unknown operator "${name}"; EventBridge supports ${quoteAll([...OPERATORS.keys()])}`);
  }
  return compile(expression[name], path);
}

function requireString(operand: unknown, path: Path, operator: string): string {
  if (typeof operand !== 'string') fail(path, `"${operator}" takes a string`);
  return operand;
}

/** The one operand of a single-operator object such as `{"equals-ignore-case": "x"}`. */
function soleOperand(expression: JsonObject, path: Path, allowed: readonly string[], context: string) {
  const [name, ...others] = Object.keys(expression);
  if (name === undefined || others.length > 0 || !allowed.includes(name)) {
    fail(path, `${context} takes exactly one of ${quoteAll(allowed)}`);
  }
  return { name, operand: expression[name] };
}

/** `prefix` / `suffix`: a string, or `{"equals-ignore-case": string}`. Strings only. */
function compileAffix(operand: unknown, path: Path, operator: 'prefix' | 'suffix'): LeafTest {
  if (isJsonObject(operand)) {
    const inner = soleOperand(operand, path, ['equals-ignore-case'], `an object under "${operator}"`);
    const text = requireString(inner.operand, path, `${operator}.equals-ignore-case`);
    return ignoringCase(text, operator === 'prefix' ? 'start' : 'end');
  }
  const affix = requireString(operand, path, operator);
  return operator === 'prefix'
    ? (leaf) => typeof leaf === 'string' && leaf.startsWith(affix)
    : (leaf) => typeof leaf === 'string' && leaf.endsWith(affix);
}

function compileExists(operand: unknown, path: Path): Condition {
  if (typeof operand !== 'boolean') fail(path, '"exists" takes true or false');
  // Any leaf counts as existing, null included; objects and empty arrays are no leaves.
  return operand ? passes(() => true) : { kind: 'absent' };
}

// --- equals-ignore-case ----------------------------------------------------------------------------

/**
 * A case-insensitive comparison as Ruler does it: each UTF-16 unit of the pattern matches its own
 * lower-case or upper-case form (Locale.ROOT, like JavaScript's), which may be longer ("ß" matches
 * "SS"). Compiled once to a regular expression; no `u` flag, so it works on UTF-16 units too.
 */
function ignoringCase(text: string, anchor: 'whole' | 'start' | 'end'): LeafTest {
  let source = '';
  for (let i = 0; i < text.length; i++) source += caseAlternatives(text.charAt(i));
  const anchored = anchor === 'whole' ? `^${source}$` : anchor === 'start' ? `^${source}` : `${source}$`;
  const pattern = new RegExp(anchored);
  return (leaf) => typeof leaf === 'string' && pattern.test(leaf);
}

function caseAlternatives(unit: string): string {
  const forms = [...new Set([unit.toLowerCase(), unit.toUpperCase()])].map(escapeRegExp);
  return forms.length === 1 ? (forms[0] ?? '') : `(?:${forms.join('|')})`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

// --- wildcard -------------------------------------------------------------------------------------

/** Compiles a wildcard; `*` matches any run of characters, `\*` and `\\` are literal. */
function wildcardTest(text: string, path: Path): LeafTest {
  const segments = wildcardSegments(text, path);
  return (leaf) => typeof leaf === 'string' && matchesSegments(leaf, segments);
}

/** Splits a wildcard into the literal text between its `*`s, enforcing AWS's syntax rules. */
function wildcardSegments(text: string, path: Path): string[] {
  const segments = [''];
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char === '*') {
      if (text.charAt(i + 1) === '*')
        fail(path, `consecutive wildcard characters at position ${i} are not allowed`);
      segments.push('');
    } else if (char === '\\') {
      const next = text.charAt(i + 1);
      if (next !== '*' && next !== '\\') {
        fail(path, `invalid escape at position ${i}: a wildcard may only escape "*" and "\\"`);
      }
      appendToLast(segments, next);
      i++;
    } else {
      appendToLast(segments, char);
    }
  }
  return segments;
}

function appendToLast(segments: string[], text: string): void {
  segments[segments.length - 1] += text;
}

/**
 * Glob matching without backtracking: the first segment must start the value, the last must end
 * it, and the ones between are found left to right, which is optimal when `*` is the only wildcard.
 */
function matchesSegments(value: string, segments: readonly string[]): boolean {
  const first = segments[0] ?? '';
  if (segments.length === 1) return value === first;
  const last = segments[segments.length - 1] ?? '';
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) {
    return false;
  }
  const end = value.length - last.length;
  let position = first.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const segment = segments[i] ?? '';
    const found = value.indexOf(segment, position);
    if (found < 0 || found + segment.length > end) return false;
    position = found + segment.length;
  }
  return true;
}

// --- anything-but ---------------------------------------------------------------------------------

/**
 * `anything-but` matches any leaf the excluded set does not cover, whatever its type (as in Ruler,
 * `{"anything-but": "a"}` matches 5 and null); it still needs the field to be there.
 */
function compileAnythingBut(operand: unknown, path: Path): LeafTest {
  const excluded = compileExclusion(operand, path);
  return (leaf) => !excluded(leaf);
}

function compileExclusion(operand: unknown, path: Path): LeafTest {
  if (typeof operand === 'string') return stringIn([operand]);
  if (typeof operand === 'number') return numberIn([operand], path);
  if (Array.isArray(operand)) return exclusionList(operand, path);
  if (isJsonObject(operand)) return exclusionOperator(operand, path);
  return fail(
    path,
    '"anything-but" takes a string, a number, a list of strings or of numbers, or an object with "prefix", "suffix", "equals-ignore-case" or "wildcard"',
  );
}

function exclusionList(values: readonly unknown[], path: Path): LeafTest {
  if (values.length === 0) fail(path, '"anything-but" takes a non-empty list');
  if (values.every((value): value is string => typeof value === 'string')) return stringIn(values);
  if (values.every((value): value is number => typeof value === 'number')) return numberIn(values, path);
  return fail(path, '"anything-but" takes a list of only strings or only numbers');
}

function stringIn(values: readonly string[]): LeafTest {
  const set = new Set(values);
  return (leaf) => typeof leaf === 'string' && set.has(leaf);
}

function numberIn(values: readonly number[], path: Path): LeafTest {
  const set = new Set(values.map((value) => requireComparable(value, path)));
  return (leaf) => typeof leaf === 'number' && isComparable(leaf) && set.has(leaf);
}

const EXCLUSION_OPERATORS = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard'] as const;

/** `{"anything-but": {"prefix" | "suffix" | "equals-ignore-case" | "wildcard": string | string[]}}`. */
function exclusionOperator(expression: JsonObject, path: Path): LeafTest {
  const { name, operand } = soleOperand(
    expression,
    path,
    EXCLUSION_OPERATORS,
    'an object under "anything-but"',
  );
  const texts = typeof operand === 'string' ? [operand] : operand;
  const what = `"anything-but": {"${name}": ...}`;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((text) => typeof text === 'string')) {
    fail(path, `${what} takes a string or a non-empty list of strings`);
  }
  if ((name === 'prefix' || name === 'suffix') && texts.includes(''))
    fail(path, `${what} takes no empty string`);
  const tests = texts.map((text: string): LeafTest => {
    if (name === 'equals-ignore-case') return ignoringCase(text, 'whole');
    if (name === 'wildcard') return wildcardTest(text, path);
    return compileAffix(text, path, name === 'prefix' ? 'prefix' : 'suffix');
  });
  return (leaf) => tests.some((test) => test(leaf));
}

// --- numeric --------------------------------------------------------------------------------------

/**
 * EventBridge compares numbers only between -5.0e9 and +5.0e9 inclusive: operands beyond are
 * rejected, and event numbers beyond never match a `numeric` range or a numeric `anything-but`.
 */
const NUMERIC_LIMIT = 5e9;

interface NumericRange {
  readonly low: number;
  readonly lowOpen: boolean;
  readonly high: number;
  readonly highOpen: boolean;
}

function isComparable(value: number): boolean {
  return Number.isFinite(value) && Math.abs(value) <= NUMERIC_LIMIT;
}

function requireComparable(value: number, path: Path): number {
  if (!isComparable(value)) fail(path, `numbers must lie between -5e9 and 5e9 inclusive, not ${value}`);
  return value;
}

function compileNumeric(operand: unknown, path: Path): LeafTest {
  const range = parseNumericRange(operand, path);
  return (leaf) =>
    typeof leaf === 'number' &&
    isComparable(leaf) &&
    (range.lowOpen ? leaf > range.low : leaf >= range.low) &&
    (range.highOpen ? leaf < range.high : leaf <= range.high);
}

/**
 * Ruler's grammar: `["=", n]`, `["<" | "<=", n]`, or `[">" | ">=", n]` optionally followed by
 * `"<" | "<=", m`. So a lower bound always comes first and there are at most two comparisons.
 */
function parseNumericRange(terms: unknown, path: Path): NumericRange {
  if (!Array.isArray(terms)) fail(path, '"numeric" takes an array such as [">", 0, "<=", 5]');
  const operator: unknown = terms[0];
  if (typeof operator !== 'string') fail(path, '"numeric" must start with one of "=", "<", "<=", ">", ">="');
  switch (operator) {
    case '=': {
      const value = numericOperand(terms, 1, path);
      expectLength(terms, 2, path);
      return { low: value, lowOpen: false, high: value, highOpen: false };
    }
    case '<':
    case '<=': {
      const high = numericOperand(terms, 1, path);
      expectLength(terms, 2, path);
      return nonEmpty({ low: -NUMERIC_LIMIT, lowOpen: false, high, highOpen: operator === '<' }, path);
    }
    case '>':
    case '>=':
      return parseLowerBounded(terms, operator === '>', path);
    default:
      return fail(path, `unknown numeric operator "${operator}"; use "=", "<", "<=", ">" or ">="`);
  }
}

function parseLowerBounded(terms: readonly unknown[], lowOpen: boolean, path: Path): NumericRange {
  const low = numericOperand(terms, 1, path);
  if (terms.length === 2) return nonEmpty({ low, lowOpen, high: NUMERIC_LIMIT, highOpen: false }, path);
  const operator = terms[2];
  if (operator !== '<' && operator !== '<=') {
    fail(path, `a lower bound may only be followed by "<" or "<=", not ${JSON.stringify(operator)}`);
  }
  const high = numericOperand(terms, 3, path);
  expectLength(terms, 4, path);
  return nonEmpty({ low, lowOpen, high, highOpen: operator === '<' }, path);
}

function numericOperand(terms: readonly unknown[], index: number, path: Path): number {
  const value = terms[index];
  if (typeof value !== 'number') fail(path, `"${String(terms[index - 1])}" must be followed by a number`);
  return requireComparable(value, path);
}

function expectLength(terms: readonly unknown[], length: number, path: Path): void {
  if (terms.length > length)
    fail(path, '"numeric" takes at most two comparisons: [">" or ">=", n, "<" or "<=", m]');
}

function nonEmpty(range: NumericRange, path: Path): NumericRange {
  if (range.low >= range.high)
    fail(path, 'the numeric range is empty: its lower bound must be below its upper bound');
  return range;
}

// --- cidr and IP addresses ------------------------------------------------------------------------

function compileCidr(text: string, path: Path): LeafTest {
  const contains = parseCidrBlock(text, path);
  return (leaf) => {
    if (typeof leaf !== 'string') return false;
    const address = parseIpAddress(leaf);
    return address !== undefined && contains(address);
  };
}

function parseCidrBlock(text: string, path: Path): (address: Uint8Array) => boolean {
  const [ip, bits, ...extra] = text.split('/');
  if (ip === undefined || bits === undefined || extra.length > 0) {
    fail(path, `"cidr" takes one "/", as in "10.0.0.0/24", not "${text}"`);
  }
  const base = parseIpAddress(ip);
  if (base === undefined) fail(path, `"${ip}" is not an IPv4 or IPv6 address`);
  if (!/^\+?\d+$/.test(bits)) fail(path, `the mask bits of "${text}" must be a non-negative integer`);
  const maskBits = Number(bits);
  const width = base.length * 8;
  // Ruler rejects a mask of the full width (/32, /128): match one address with a plain string.
  if (maskBits >= width)
    fail(path, `${base.length === 4 ? 'IPv4' : 'IPv6'} mask bits must be below ${width}`);
  const masks = base.map((_, i) => (0xff00 >> Math.min(8, Math.max(0, maskBits - 8 * i))) & 0xff);
  const network = base.map((byte, i) => byte & (masks[i] ?? 0));
  return (address) =>
    address.length === base.length && address.every((byte, i) => (byte & (masks[i] ?? 0)) === network[i]);
}

const IPV4_SHAPE = /^\d+\.\d+\.\d+\.\d+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * The bytes of an IPv4 or IPv6 literal, or undefined. Like Ruler: dotted quads and colon-hex only
 * (no zone, no embedded IPv4), and an IPv4-mapped IPv6 address (::ffff:a00:1) is the IPv4 address.
 */
function parseIpAddress(text: string): Uint8Array | undefined {
  if (IPV4_SHAPE.test(text)) return parseIpv4(text);
  if (IPV6_SHAPE.test(text)) return parseIpv6(text);
  return undefined;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const octets = text.split('.');
  // Leading zeros read as octal in some parsers; Java (hence Ruler) and Node refuse them.
  if (octets.some((octet) => octet.length > 1 && octet.startsWith('0'))) return undefined;
  const bytes = octets.map(Number);
  return bytes.every((byte) => byte <= 255) ? Uint8Array.from(bytes) : undefined;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = hexGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? hexGroups(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = Uint8Array.from(groups.flatMap((group) => [group >> 8, group & 0xff]));
  return isIpv4Mapped(bytes) ? bytes.slice(12) : bytes;
}

function hexGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':');
  return groups.every((group) => HEX_GROUP.test(group))
    ? groups.map((group) => Number.parseInt(group, 16))
    : undefined;
}

function isIpv4Mapped(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

function sameAddress(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function quoteAll(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}
