/**
 * A read-only model of synthesized CloudFormation templates, as the local runtime needs it: the
 * resources of every stack, the physical names it gives them locally, and a resolver for the
 * intrinsic functions CDK emits (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split,
 * Fn::ImportValue, Fn::If with conditions, pseudo parameters).
 */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
}

export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  Conditions?: Record<string, unknown>;
  Parameters?: Record<string, { Default?: unknown }>;
}

export interface StackTemplate {
  stackName: string;
  template: CfnTemplate;
}

/** A resource with where it comes from. */
export interface ResourceRef {
  stackName: string;
  logicalId: string;
  type: string;
  properties: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export class TemplateResolutionError extends Error {}

const PARTITION = 'aws';

/** Resolves references across every stack of a synthesized app, giving each resource a local name. */
export class CloudTemplate {
  private readonly stacks = new Map<string, CfnTemplate>();
  private readonly exports = new Map<string, { stackName: string; value: unknown }>();

  constructor(
    stacks: readonly StackTemplate[],
    readonly region: string,
    readonly accountId: string,
  ) {
    for (const { stackName, template } of stacks) {
      this.stacks.set(stackName, template);
      for (const output of Object.values(template.Outputs ?? {})) {
        if (output.Export) {
          const name = this.resolve(stackName, output.Export.Name);
          this.exports.set(String(name), { stackName, value: output.Value });
        }
      }
    }
  }

  get stackNames(): string[] {
    return [...this.stacks.keys()];
  }

  /** Every resource of a CloudFormation type, across stacks, in template order. */
  resourcesOfType(type: string): ResourceRef[] {
    const out: ResourceRef[] = [];
    for (const [stackName, template] of this.stacks) {
      for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
        if (resource.Type !== type) continue;
        if (resource.Condition && !this.condition(stackName, resource.Condition)) continue;
        out.push({
          stackName,
          logicalId,
          type,
          properties: resource.Properties ?? {},
          metadata: resource.Metadata ?? {},
        });
      }
    }
    return out;
  }

  resource(stackName: string, logicalId: string): ResourceRef {
    const resource = this.stacks.get(stackName)?.Resources?.[logicalId];
    if (!resource) throw new TemplateResolutionError(`No resource ${logicalId} in stack ${stackName}`);
    return {
      stackName,
      logicalId,
      type: resource.Type,
      properties: resource.Properties ?? {},
      metadata: resource.Metadata ?? {},
    };
  }

  /** The name a resource gets locally: its explicit name property, else one derived from its ids. */
  physicalName(ref: ResourceRef): string {
    const explicit = NAME_PROPERTY[ref.type];
    const given = explicit ? ref.properties[explicit] : undefined;
    if (given !== undefined) return String(this.resolve(ref.stackName, given));
    const base = `${ref.stackName}-${ref.logicalId}`;
    switch (ref.type) {
      case 'AWS::S3::Bucket':
        return base
          .toLowerCase()
          .replace(/[^a-z0-9-]/g, '-')
          .slice(0, 63)
          .replace(/-+$/, '');
      case 'AWS::Lambda::Function':
        return base.slice(0, 64);
      default:
        return base;
    }
  }

  /** The ARN of a resource, as `Fn::GetAtt [id, Arn]` gives it on AWS. */
  arn(ref: ResourceRef): string {
    const name = this.physicalName(ref);
    const { region, accountId: account } = this;
    switch (ref.type) {
      case 'AWS::DynamoDB::Table':
        return `arn:${PARTITION}:dynamodb:${region}:${account}:table/${name}`;
      case 'AWS::S3::Bucket':
        return `arn:${PARTITION}:s3:::${name}`;
      case 'AWS::Events::EventBus':
        return `arn:${PARTITION}:events:${region}:${account}:event-bus/${name}`;
      case 'AWS::Events::Rule':
        return `arn:${PARTITION}:events:${region}:${account}:rule/${name}`;
      case 'AWS::Lambda::Function':
        return `arn:${PARTITION}:lambda:${region}:${account}:function:${name}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:${PARTITION}:states:${region}:${account}:stateMachine:${name}`;
      case 'AWS::IAM::Role':
        return `arn:${PARTITION}:iam::${account}:role/${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:${PARTITION}:logs:${region}:${account}:log-group:${name}:*`;
      case 'AWS::SQS::Queue':
        return `arn:${PARTITION}:sqs:${region}:${account}:${name}`;
      case 'AWS::SNS::Topic':
        return `arn:${PARTITION}:sns:${region}:${account}:${name}`;
      default:
        return `arn:${PARTITION}:local:${region}:${account}:${ref.logicalId}`;
    }
  }

  /** What `Ref` returns for a resource (a name for most types, an ARN for some). */
  ref(ref: ResourceRef): string {
    switch (ref.type) {
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SNS::Topic':
        return this.arn(ref);
      case 'AWS::SQS::Queue':
        return `http://sqs.local/${this.accountId}/${this.physicalName(ref)}`;
      case 'AWS::Lambda::Version': {
        // A version's Ref is its ARN: the function's, qualified (the local runtime runs one version).
        const fn = this.resolve(ref.stackName, ref.properties.FunctionName);
        const name = String(fn).split(':').pop();
        return `arn:${PARTITION}:lambda:${this.region}:${this.accountId}:function:${name}:1`;
      }
      case 'AWS::ApiGatewayV2::Api':
      case 'AWS::ApiGatewayV2::Integration':
      case 'AWS::ApiGatewayV2::Route':
      case 'AWS::ApiGatewayV2::Authorizer':
        // API Gateway ids are opaque; the whole logical id keeps them unique within the app.
        return ref.logicalId.toLowerCase();
      default:
        return NAMED_BY_REF.has(ref.type) ? this.physicalName(ref) : ref.logicalId;
    }
  }

  /** Resolves every intrinsic function in `value` as CloudFormation would in `stackName`. */
  resolve(stackName: string, value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((item) => this.resolve(stackName, item)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      return this.intrinsic(stackName, first[0], first[1]);
    }
    const out: Record<string, unknown> = {};
    for (const [key, inner] of entries) {
      const resolved = this.resolve(stackName, inner);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private intrinsic(stackName: string, fn: string, arg: unknown): unknown {
    switch (fn) {
      case 'Ref':
        return this.resolveRef(stackName, String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
        return this.getAtt(stackName, String(logicalId), String(attribute));
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        const resolved = this.resolve(stackName, parts) as unknown[];
        return resolved.map((part) => String(part)).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = this.resolve(stackName, list) as unknown[];
        return items[Number(this.resolve(stackName, index))];
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return String(this.resolve(stackName, source)).split(separator);
      }
      case 'Fn::Sub':
        return this.sub(stackName, arg);
      case 'Fn::ImportValue': {
        const name = String(this.resolve(stackName, arg));
        const exported = this.exports.get(name);
        if (!exported) throw new TemplateResolutionError(`No stack exports '${name}'`);
        return this.resolve(exported.stackName, exported.value);
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        return this.resolve(stackName, this.condition(stackName, condition) ? whenTrue : whenFalse);
      }
      case 'Fn::Base64':
        return Buffer.from(String(this.resolve(stackName, arg))).toString('base64');
      case 'Fn::GetAZs':
        return [`${this.region}a`, `${this.region}b`, `${this.region}c`];
      case 'Fn::Equals': {
        const [a, b] = this.resolve(stackName, arg) as [unknown, unknown];
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !(this.resolve(stackName, arg) as unknown[])[0];
      case 'Fn::And':
        return (this.resolve(stackName, arg) as unknown[]).every(Boolean);
      case 'Fn::Or':
        return (this.resolve(stackName, arg) as unknown[]).some(Boolean);
      default:
        throw new TemplateResolutionError(`Unsupported intrinsic function ${fn} in stack ${stackName}`);
    }
  }

  private condition(stackName: string, name: string): boolean {
    const definition = this.stacks.get(stackName)?.Conditions?.[name];
    if (definition === undefined) throw new TemplateResolutionError(`No condition ${name} in ${stackName}`);
    return Boolean(this.resolve(stackName, definition));
  }

  private resolveRef(stackName: string, name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::Partition':
        return PARTITION;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
      case 'AWS::StackId':
        return `arn:${PARTITION}:cloudformation:${this.region}:${this.accountId}:stack/${stackName}/local`;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const template = this.stacks.get(stackName);
    const parameter = template?.Parameters?.[name];
    if (parameter) return parameter.Default;
    return this.ref(this.resource(stackName, name));
  }

  private getAtt(stackName: string, logicalId: string, attribute: string): unknown {
    const ref = this.resource(stackName, logicalId);
    const name = this.physicalName(ref);
    switch (attribute) {
      case 'Arn':
        return this.arn(ref);
      case 'Name':
      case 'StateMachineName':
        return name;
      case 'RegionalDomainName':
      case 'DomainName':
        return `${name}.s3.${this.region}.amazonaws.com`;
      case 'ApiEndpoint':
        return 'http://127.0.0.1';
      case 'ApiId':
        return this.ref(ref);
      case 'StreamArn':
        return `${this.arn(ref)}/stream/local`;
      case 'QueueUrl':
        return this.ref(ref);
      default:
        return `${logicalId}.${attribute}`;
    }
  }

  private sub(stackName: string, arg: unknown): string {
    const [text, variables] = Array.isArray(arg)
      ? (arg as [string, Record<string, unknown>])
      : [String(arg), {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_match, expression: string) => {
      if (expression in variables) return String(this.resolve(stackName, variables[expression]));
      const [id, attribute] = expression.split(/\.(.*)/);
      if (attribute) return String(this.getAtt(stackName, id as string, attribute));
      return String(this.resolveRef(stackName, expression));
    });
  }
}

/** The property that names a resource explicitly, per type. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::Events::EventBus': 'Name',
  'AWS::Events::Rule': 'Name',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
};

/** Types whose `Ref` is their physical name. */
const NAMED_BY_REF = new Set([
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::Events::EventBus',
  'AWS::Events::Rule',
  'AWS::Lambda::Function',
  'AWS::IAM::Role',
  'AWS::Logs::LogGroup',
]);

/** `Ref: AWS::NoValue` removes the property or list item that holds it. */
const NO_VALUE = Symbol('AWS::NoValue');
