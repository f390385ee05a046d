import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import {
  AWS_MANAGED_POLICIES,
  OBJECT_DELETERS,
  SOURCE_CONDITIONED,
  TABLES,
  WHOLE_TABLE_GRANTS,
  WILDCARDS,
} from '../infra/least-privilege.rules.ts';

/**
 * Reads every IAM role of synthesized templates as AWS will see it (inline policies, policies that
 * name the role, managed policies of this or another stack through their exports) and checks each
 * statement against the rules in `least-privilege.rules.ts`. It reads the policies, not the cdk-nag
 * acknowledgements: an acknowledgement can hide a finding from cdk-nag, never from this.
 */

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation is untyped JSON.
type Json = any;

export interface Violation {
  rule:
    | 'no-data-action-on-star'
    | 'table-grant-needs-leading-keys'
    | 'delete-object-unused'
    | 'unlisted-wildcard'
    | 'aws-managed-policy'
    | 'trust-without-source'
    | 'coarse-acknowledgement';
  /** `<stack>/<role logical id without hash>` (or the construct path, for acknowledgements). */
  role: string;
  /** Where the statement is: the policy's logical id (or `inline:<name>`, `trust`), and its index. */
  statement: string;
  action: string;
  resource: string;
  message: string;
}

/** `ArtifactBucket7410C9EF` -> `ArtifactBucket`: CDK's logical ids end with an 8-digit hash. */
const stripHash = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');
const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

interface StackJson {
  name: string;
  template: Json;
}

/** Renders CloudFormation values readably: `<TrackingTable.Arn>/index/gsi1`, `arn:${AWS::Partition}:...`. */
class Renderer {
  private readonly exports = new Map<string, { stack: StackJson; value: Json }>();

  constructor(readonly stacks: StackJson[]) {
    for (const stack of stacks) {
      for (const output of Object.values<Json>(stack.template.Outputs ?? {})) {
        if (output.Export?.Name) this.exports.set(String(output.Export.Name), { stack, value: output.Value });
      }
    }
  }

  /** The stack and value an `Fn::ImportValue` stands for. */
  imported(name: string): { stack: StackJson; value: Json } | undefined {
    return this.exports.get(name);
  }

  render(stack: StackJson, value: Json): string {
    if (typeof value === 'string') return value;
    if (value === null || typeof value !== 'object') return String(value);
    if ('Ref' in value) {
      const ref = String(value.Ref);
      return ref.startsWith('AWS::') ? `\${${ref}}` : `<${stripHash(ref)}>`;
    }
    if ('Fn::GetAtt' in value) {
      const [id, attribute] = value['Fn::GetAtt'] as [string, string];
      return `<${stripHash(id)}.${attribute}>`;
    }
    if ('Fn::Join' in value) {
      const [separator, parts] = value['Fn::Join'] as [string, Json[]];
      return parts.map((part) => this.render(stack, part)).join(separator);
    }
    if ('Fn::ImportValue' in value) {
      const imported = this.imported(String(value['Fn::ImportValue']));
      return imported ? this.render(imported.stack, imported.value) : `<import ${value['Fn::ImportValue']}>`;
    }
    if ('Fn::Select' in value || 'Fn::Split' in value || 'Fn::Sub' in value) return JSON.stringify(value);
    return JSON.stringify(value);
  }
}

interface Grant {
  role: string;
  statement: string;
  json: Json;
  stack: StackJson;
}

/** Every role's statements, and every role's trust policy and AWS managed policies. */
function collect(stacks: StackJson[], renderer: Renderer) {
  const grants: Grant[] = [];
  const roles: Array<{ role: string; stack: StackJson; json: Json }> = [];
  const managed = new Map<string, { stack: StackJson; id: string; json: Json }>();
  // Policies with literal names, which a role of another region attaches by ARN (the edge function's).
  const managedByName = new Map<string, { stack: StackJson; id: string; json: Json }>();
  for (const stack of stacks) {
    for (const [id, resource] of Object.entries<Json>(stack.template.Resources ?? {})) {
      if (resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
      managed.set(`${stack.name}/${id}`, { stack, id, json: resource });
      const name = resource.Properties.ManagedPolicyName;
      if (name !== undefined) managedByName.set(renderer.render(stack, name), { stack, id, json: resource });
    }
  }
  /** The app's own policy an ARN names (`arn:...:iam::<account>:policy/<name>`), if it is one. */
  const byArn = (stack: StackJson, arn: Json) => {
    const name = /:iam::[^:]*:policy\/(.+)$/.exec(renderer.render(stack, arn))?.[1];
    return name === undefined ? undefined : managedByName.get(name);
  };
  const roleName = (stack: StackJson, id: string) => `${stack.name}/${stripHash(id)}`;
  const statementsOf = (policyId: string, document: Json, role: string, stack: StackJson) => {
    for (const [index, json] of list<Json>(document?.Statement).entries()) {
      grants.push({ role, statement: `${policyId}#${index}`, json, stack });
    }
  };
  for (const stack of stacks) {
    for (const [id, resource] of Object.entries<Json>(stack.template.Resources ?? {})) {
      if (resource.Type === 'AWS::IAM::Role') {
        const role = roleName(stack, id);
        roles.push({ role, stack, json: resource });
        for (const policy of list<Json>(resource.Properties.Policies)) {
          statementsOf(`inline:${policy.PolicyName}`, policy.PolicyDocument, role, stack);
        }
        for (const arn of list<Json>(resource.Properties.ManagedPolicyArns)) {
          const found =
            'Ref' in Object(arn)
              ? managed.get(`${stack.name}/${arn.Ref}`)
              : 'Fn::ImportValue' in Object(arn)
                ? (() => {
                    const imported = renderer.imported(String(arn['Fn::ImportValue']));
                    return imported && managed.get(`${imported.stack.name}/${imported.value?.Ref}`);
                  })()
                : byArn(stack, arn);
          if (found)
            statementsOf(stripHash(found.id), found.json.Properties.PolicyDocument, role, found.stack);
          else grants.push({ role, statement: 'ManagedPolicyArns', json: { managedPolicy: arn }, stack });
        }
      }
      if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
        for (const ref of list<Json>(resource.Properties.Roles)) {
          if (ref?.Ref)
            statementsOf(stripHash(id), resource.Properties.PolicyDocument, roleName(stack, ref.Ref), stack);
        }
      }
    }
  }
  return { grants, roles };
}

const ITEM_ACTIONS = new Set(
  [
    'GetItem',
    'BatchGetItem',
    'Query',
    'ConditionCheckItem',
    'PutItem',
    'UpdateItem',
    'DeleteItem',
    'BatchWriteItem',
  ].map((action) => `dynamodb:${action}`.toLowerCase()),
);

/** The table (and index) a rendered resource names, if it is one of the app's tables. */
function tableOf(resource: string): string | undefined {
  const match = /^<([A-Za-z0-9]+)\.Arn>(\/index\/.+)?$/.exec(resource);
  const table = match?.[1];
  return table && table in TABLES ? table : undefined;
}

/** Checks every role of the given stacks (and the acknowledgements under `root`) against the rules. */
export function auditIam(stacks: readonly Stack[], root?: IConstruct): Violation[] {
  const jsons = stacks.map((stack) => ({
    name: stack.stackName,
    template: Template.fromStack(stack).toJSON(),
  }));
  const renderer = new Renderer(jsons);
  const { grants, roles } = collect(jsons, renderer);
  const violations: Violation[] = [];
  const fail = (grant: Grant, rule: Violation['rule'], action: string, resource: string, message: string) =>
    violations.push({ rule, role: grant.role, statement: grant.statement, action, resource, message });

  for (const grant of grants) {
    if (grant.json.managedPolicy !== undefined) {
      const arn = renderer.render(grant.stack, grant.json.managedPolicy);
      if (!AWS_MANAGED_POLICIES.some((entry) => entry.arn.test(arn) && entry.roles.test(grant.role))) {
        fail(
          grant,
          'aws-managed-policy',
          '-',
          arn,
          'roles hold only what their code uses: no AWS managed policy',
        );
      }
      continue;
    }
    if (grant.json.Effect !== 'Allow') continue;
    const actions = list<string>(grant.json.Action);
    const resources = list<Json>(grant.json.Resource).map((resource) =>
      renderer.render(grant.stack, resource),
    );
    const leadingKeys = list<string>(
      grant.json.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'],
    );
    for (const resource of resources) {
      for (const action of actions) {
        const service = action.split(':')[0];
        if ((service === 's3' || service === 'dynamodb' || action === '*') && resource === '*') {
          fail(
            grant,
            'no-data-action-on-star',
            action,
            resource,
            'S3 and DynamoDB actions name their bucket or table',
          );
        }
      }
      const table = tableOf(resource);
      const dynamo = actions.filter((action) => action.startsWith('dynamodb:'));
      if (table && dynamo.length > 0) {
        const owner = WHOLE_TABLE_GRANTS.some(
          (entry) => entry.table === table && entry.role.test(grant.role),
        );
        if (leadingKeys.length === 0 && !owner) {
          fail(
            grant,
            'table-grant-needs-leading-keys',
            dynamo.join(','),
            resource,
            `a grant on ${table} needs a dynamodb:LeadingKeys condition (its keys have known prefixes: ${TABLES[table]?.prefixes.join(' ')}); or an entry in WHOLE_TABLE_GRANTS with the reason the role owns the table`,
          );
        }
        for (const pattern of leadingKeys) {
          const literal = pattern.split('*')[0] ?? '';
          if (!literal || !TABLES[table]?.prefixes.some((prefix) => literal.startsWith(prefix))) {
            fail(
              grant,
              'table-grant-needs-leading-keys',
              dynamo.join(','),
              resource,
              `LeadingKeys pattern '${pattern}' is not a partition of ${table} (${TABLES[table]?.prefixes.join(' ')})`,
            );
          }
        }
        if (leadingKeys.length > 0) {
          for (const action of dynamo.filter((candidate) => !ITEM_ACTIONS.has(candidate.toLowerCase()))) {
            fail(
              grant,
              'table-grant-needs-leading-keys',
              action,
              resource,
              `${action} carries no partition keys: a ForAllValues LeadingKeys condition lets it through unchecked`,
            );
          }
        }
      }
      for (const action of actions) {
        if (!/^s3:(DeleteObject|DeleteObjectVersion|\*|Delete\*)$/i.test(action)) continue;
        if (!OBJECT_DELETERS.some((entry) => entry.role.test(grant.role))) {
          fail(
            grant,
            'delete-object-unused',
            action,
            resource,
            "the role's code never deletes objects (OBJECT_DELETERS)",
          );
        }
      }
      const wildcardActions = actions.filter((action) => action.includes('*'));
      if (resource.includes('*') || wildcardActions.length > 0) {
        const allowed = WILDCARDS.some(
          (entry) =>
            (entry.roles === undefined || entry.roles.test(grant.role)) &&
            actions.every((action) => entry.actions.some((a) => a.toLowerCase() === action.toLowerCase())) &&
            entry.resource.test(resource) &&
            (entry.condition === undefined ||
              JSON.stringify(grant.json.Condition ?? {}).includes(`"${entry.condition}"`)),
        );
        if (!allowed) {
          fail(
            grant,
            'unlisted-wildcard',
            actions.join(','),
            resource,
            'a wildcard needs an entry in WILDCARDS that lists these actions on this resource, with its reason',
          );
        }
      }
    }
  }

  for (const { role, json } of roles) {
    for (const [index, statement] of list<Json>(
      json.Properties.AssumeRolePolicyDocument?.Statement,
    ).entries()) {
      const services = list<string>(statement.Principal?.Service).filter((service) =>
        SOURCE_CONDITIONED.includes(service),
      );
      const condition = JSON.stringify(statement.Condition ?? {});
      for (const service of services) {
        if (!condition.includes('"aws:SourceAccount"') || !condition.includes('"aws:SourceArn"')) {
          violations.push({
            rule: 'trust-without-source',
            role,
            statement: `trust#${index}`,
            action: 'sts:AssumeRole',
            resource: service,
            message: `${service} may assume the role only for this account's resources (aws:SourceAccount and aws:SourceArn)`,
          });
        }
      }
    }
  }

  if (root) violations.push(...coarseAcknowledgements(root));
  return violations;
}

/** cdk-nag rules whose findings are granular (`[Resource::...]`, `[Action::...]`, `[Policy::...]`). */
const GRANULAR_RULES = /^(Annotation::)?AwsSolutions-IAM[45]$/;

function coarseAcknowledgements(root: IConstruct): Violation[] {
  const violations: Violation[] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const id of Object.keys(entry.data as Record<string, string>)) {
        if (!GRANULAR_RULES.test(id)) continue;
        violations.push({
          rule: 'coarse-acknowledgement',
          role: construct.node.path,
          statement: 'acknowledgement',
          action: id,
          resource: '-',
          message: `acknowledge the finding it covers (${id}[Resource::...]): a bare rule id hides every finding of the rule`,
        });
      }
    }
  }
  return violations;
}

/** The failures as lines a person reads: role, statement, action, resource, rule and why. */
export function describeViolations(violations: readonly Violation[]): string[] {
  return violations.map(
    (v) => `${v.role} (${v.statement}): ${v.action} on ${v.resource} breaks ${v.rule}: ${v.message}`,
  );
}

/** Each OBJECT_DELETERS entry names a file that makes the call it names (a reason that can be checked). */
export function deletersWithoutTheirCall(): string[] {
  return OBJECT_DELETERS.filter((entry) => {
    const text = readFileSync(path.join(REPO_ROOT, entry.file), 'utf8');
    return !text.includes(entry.call);
  }).map((entry) => `${entry.role}: ${entry.file} has no ${entry.call}`);
}
