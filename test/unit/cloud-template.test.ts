import { describe, expect, it } from 'vitest';
import { CloudTemplate, TemplateResolutionError } from '../../infra/local/cloud-template.ts';

const template = new CloudTemplate(
  [
    {
      stackName: 'Data',
      template: {
        Resources: {
          TableA1B2C3D4: { Type: 'AWS::DynamoDB::Table', Properties: {} },
          Named: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'explicit-name' } },
          Bucket12345678: { Type: 'AWS::S3::Bucket', Properties: {} },
          Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'runway-bus' } },
        },
        Outputs: {
          ExportTable: {
            Value: { 'Fn::GetAtt': ['TableA1B2C3D4', 'Arn'] },
            Export: { Name: 'Data:ExportsOutputTableArn' },
          },
        },
        Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] } },
      },
    },
    {
      stackName: 'Api',
      template: {
        Resources: {
          Fn: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Environment: {
                Variables: {
                  TABLE_ARN: { 'Fn::ImportValue': 'Data:ExportsOutputTableArn' },
                  JOINED: {
                    'Fn::Join': ['-', ['a', { Ref: 'AWS::AccountId' }, { 'Fn::Select': [1, ['x', 'y']] }]],
                  },
                  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JavaScript template
                  SUBSTITUTED: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/${Fn.Arn}' },
                  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JavaScript template
                  SUB_VARS: { 'Fn::Sub': ['${A}-${B}', { A: 'one', B: { Ref: 'AWS::Region' } }] },
                  SPLIT: { 'Fn::Select': [2, { 'Fn::Split': [':', 'a:b:c'] }] },
                  PROD: { 'Fn::If': ['Local', 'yes', { Ref: 'AWS::NoValue' }] },
                },
              },
            },
          },
          Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'api-bucket' } },
          Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: {} },
        },
        Conditions: { Local: { 'Fn::Equals': ['a', 'b'] } },
      },
    },
  ],
  'us-east-1',
  '000000000000',
);

describe('CloudTemplate', () => {
  it('names resources by explicit name, else stack and logical id (buckets lower-cased)', () => {
    const [generated, named] = template.resourcesOfType('AWS::DynamoDB::Table');
    expect(template.physicalName(generated!)).toBe('Data-TableA1B2C3D4');
    expect(template.physicalName(named!)).toBe('explicit-name');
    expect(template.physicalName(template.resource('Data', 'Bucket12345678'))).toBe('data-bucket12345678');
  });

  it('gives Ref and GetAtt what CloudFormation gives per type', () => {
    expect(template.ref(template.resource('Data', 'Bus'))).toBe('runway-bus');
    expect(template.ref(template.resource('Api', 'Machine'))).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:Api-Machine',
    );
    expect(template.arn(template.resource('Data', 'Named'))).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/explicit-name',
    );
  });

  it('resolves imports across stacks and every intrinsic CDK emits', () => {
    const fn = template.resource('Api', 'Fn');
    expect(template.resolve('Api', fn.properties)).toEqual({
      Environment: {
        Variables: {
          TABLE_ARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/Data-TableA1B2C3D4',
          JOINED: 'a-000000000000-y',
          SUBSTITUTED: 'arn:aws:s3:::api-bucket/arn:aws:lambda:us-east-1:000000000000:function:Api-Fn',
          SUB_VARS: 'one-us-east-1',
          SPLIT: 'c',
        },
      },
    });
  });

  it('fails clearly on references it cannot resolve', () => {
    expect(() => template.resolve('Api', { Ref: 'Missing' })).toThrow(TemplateResolutionError);
    expect(() => template.resolve('Api', { 'Fn::ImportValue': 'nobody-exports-this' })).toThrow(
      /No stack exports/,
    );
    expect(() => template.resolve('Api', { 'Fn::Transform': {} })).toThrow(/Unsupported intrinsic/);
  });
});
