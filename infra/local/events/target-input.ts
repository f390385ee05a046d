/**
 * What a rule target receives, as EventBridge computes it: the whole event, a constant `Input`, the
 * part of the event at `InputPath`, or an `InputTransformer` template filled from `InputPathsMap`.
 */
export interface TargetInput {
  input?: string | undefined;
  inputPath?: string | undefined;
  inputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string } | undefined;
}

export function applyTargetInput(target: TargetInput, event: unknown): unknown {
  if (target.input !== undefined) return JSON.parse(target.input);
  if (target.inputPath !== undefined) return jsonPath(event, target.inputPath);
  if (target.inputTransformer) return transform(target.inputTransformer, event);
  return event;
}

/** EventBridge's JSONPath subset: `$`, `$.a.b`, `$.a[0]`, `$['a b']`. */
export function jsonPath(value: unknown, expression: string): unknown {
  if (!expression.startsWith('$')) throw new Error(`Invalid JSONPath ${expression}`);
  const steps = [...expression.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]/g)].map(
    (match) => match[1] ?? (match[2] !== undefined ? Number(match[2]) : match[3]),
  );
  let current: unknown = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[step as string | number];
  }
  return current;
}

/**
 * Fills `<name>` placeholders as EventBridge does: in a JSON template, a value inside a string
 * literal goes in as text and elsewhere as JSON; a template that is not JSON is text, and is
 * delivered as a string with values inserted as they are.
 */
function transform(
  transformer: { InputPathsMap?: Record<string, string>; InputTemplate: string },
  event: unknown,
) {
  const values: Record<string, unknown> = {};
  for (const [name, pathExpression] of Object.entries(transformer.InputPathsMap ?? {})) {
    values[name] = pathExpression === '<aws.events.event.json>' ? event : jsonPath(event, pathExpression);
  }
  values['aws.events.event.json'] ??= event;
  const template = transformer.InputTemplate;
  // A template that is not JSON-shaped is plain text: values go in as they are, strings unquoted.
  const textTemplate = !/^\s*[[{"]/.test(template);
  let inString = textTemplate;
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const char = template[i] as string;
    if (!textTemplate && char === '"' && template[i - 1] !== '\\') inString = !inString;
    const placeholder = char === '<' ? /^<([\w.-]+)>/.exec(template.slice(i)) : null;
    if (placeholder?.[1] !== undefined && placeholder[1] in values) {
      const value = values[placeholder[1]];
      out += textTemplate
        ? typeof value === 'string'
          ? value
          : JSON.stringify(value ?? null)
        : inString
          ? typeof value === 'string'
            ? JSON.stringify(value).slice(1, -1)
            : JSON.stringify(value ?? null)
          : JSON.stringify(value ?? null);
      i += placeholder[0].length - 1;
    } else {
      out += char;
    }
  }
  if (textTemplate) return out;
  try {
    return JSON.parse(out);
  } catch {
    return out;
  }
}
