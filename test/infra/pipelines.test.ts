import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthRunway, templateOf } from '../support/synth.ts';

let template: ReturnType<typeof templateOf>;
let definition: { States: Record<string, Record<string, unknown>> };

beforeAll(() => {
  const { stacks } = synthRunway({ nag: false });
  template = templateOf(stacks.pipelines);
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
    Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
  };
  const parts = machine.Properties.DefinitionString['Fn::Join'][1];
  definition = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join(''));
});

describe('training pipeline stack', () => {
  it('is a STANDARD state machine named runway-training with full logging and tracing', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'runway-training',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
  });

  it('retries transient errors and catches everything on every task, into a failure that names the step', () => {
    const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(
      [
        'Evaluate',
        'Finish',
        'Gate',
        'ImportModel',
        'Prepare',
        'RecordFailure',
        'Register',
        'SetAlias',
        'Split',
        'Train',
        'TrainInSageMaker',
        'ValidateData',
      ].sort(),
    );
    for (const [name, state] of tasks) {
      expect(state.Retry, name).toBeDefined();
      const [catcher] = state.Catch as Array<{ ErrorEquals: string[]; Next: string }>;
      expect(catcher!.ErrorEquals, name).toEqual(['States.ALL']);
      expect(catcher!.Next, name).toBe(
        name === 'RecordFailure' ? 'PipelineFailedUnrecorded' : `${name} failed`,
      );
    }
    expect(definition.States['ValidateData failed']).toMatchObject({
      Type: 'Pass',
      Parameters: { step: 'ValidateData' },
    });
    expect(definition.States.PipelineFailed).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.outcome.error',
      CausePath: '$.outcome.cause',
    });
    expect(definition.States.TrainInSageMaker!.Resource).toMatch(/sagemaker:createTrainingJob\.sync$/);
  });

  it('grants each step only what it uses', () => {
    const roles = template.findResources('AWS::IAM::Role');
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
      Properties: {
        Roles: Array<{ Ref: string }>;
        PolicyDocument: { Statement: Array<{ Action: string | string[] }> };
      };
    }>;
    const actionsOf = (rolePrefix: string) => {
      const role = Object.keys(roles).find((id) => id.startsWith(rolePrefix))!;
      const managed = JSON.stringify(
        (roles[role] as { Properties: { ManagedPolicyArns?: unknown } }).Properties.ManagedPolicyArns ?? [],
      );
      const actions = policies
        .filter((p) => p.Properties.Roles.some((r) => r.Ref === role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s) => s.Action));
      return { actions, managed };
    };
    const prepare = actionsOf('TrainingPrepareFunctionRole');
    expect(prepare.actions).not.toContain('events:PutEvents');
    expect(prepare.managed).not.toContain('ArtifactPolicy');
    const register = actionsOf('TrainingRegisterFunctionRole');
    expect(register.actions).toContain('events:PutEvents');
    expect(register.managed).not.toContain('ArtifactPolicy');
    const validate = actionsOf('TrainingValidateDataFunctionRole');
    expect(validate.actions).not.toContain('events:PutEvents');
    // Read datasets, write run artifacts, delete nothing: the pipeline's policy, not the artifact API's.
    expect(validate.managed).toContain('PipelineArtifactPolicy');
    expect(validate.managed).not.toContain('ArtifactAccessPolicy');
  });
});
