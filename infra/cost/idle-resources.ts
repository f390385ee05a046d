import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { HOURS_PER_MONTH, PRICES } from './prices.ts';

/**
 * What a deployed Runway costs while nobody uses it, read off the synthesized templates: every
 * resource that bills by the hour or the month whether or not a request arrives. Runway's design
 * has none but its alarms (docs/cost.md); anything else must say why it is worth its fixed cost, in
 * the `runway:idle-cost` metadata that `acknowledgeIdleCost` writes where the resource is defined
 * (`test/infra/idle-cost.test.ts` fails on one without).
 */

/** The metadata key holding a resource's written reason for billing while idle. */
export const IDLE_COST_METADATA = 'runway:idle-cost';

/** One resource's charge while idle. */
export interface IdleCharge {
  stackName: string;
  logicalId: string;
  type: string;
  /** What bills and at what rate. */
  what: string;
  /** US dollars a month, before free tiers; undefined where it depends on a size the template leaves open. */
  monthly: number | undefined;
  /**
   * Billed by the hour or the month whatever happens (a NAT gateway, a key): must carry a written
   * reason. Alarms bill monthly too but are Runway's operations, counted without a reason.
   */
  fixed: boolean;
  reason: string | undefined;
}

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

/** A stack's synthesized template, as `cdk synth` writes it. */
export interface SynthesizedStack {
  stackName: string;
  template: { Resources?: Record<string, Resource> };
}

const hourly = (rate: number) => rate * HOURS_PER_MONTH;

/** How each resource type bills while idle; undefined for types that bill only per use. */
function chargeOf(
  resource: Resource,
): Omit<IdleCharge, 'stackName' | 'logicalId' | 'type' | 'reason'> | undefined {
  const props = resource.Properties ?? {};
  switch (resource.Type) {
    case 'AWS::CloudWatch::Alarm': {
      const metrics =
        (props.Metrics as Array<{ MetricStat?: unknown }> | undefined)?.filter((m) => m.MetricStat).length ||
        1;
      return {
        what: `alarm, ${metrics} metric(s) at $${PRICES.cloudWatch.alarmMetricMonth} a month each`,
        monthly: metrics * PRICES.cloudWatch.alarmMetricMonth,
        fixed: false,
      };
    }
    case 'AWS::EC2::NatGateway':
      return {
        what: `NAT gateway, $${PRICES.vpc.natGatewayHour} an hour`,
        monthly: hourly(PRICES.vpc.natGatewayHour),
        fixed: true,
      };
    case 'AWS::EC2::VPCEndpoint': {
      if (props.VpcEndpointType !== 'Interface') return undefined;
      const zones = Array.isArray(props.SubnetIds) ? props.SubnetIds.length : 1;
      return {
        what: `interface endpoint in ${zones} zone(s), $${PRICES.vpc.interfaceEndpointHour} an hour each`,
        monthly: zones * hourly(PRICES.vpc.interfaceEndpointHour),
        fixed: true,
      };
    }
    case 'AWS::EC2::EIP':
      return {
        what: `public IPv4 address, $${PRICES.vpc.publicIpv4Hour} an hour`,
        monthly: hourly(PRICES.vpc.publicIpv4Hour),
        fixed: true,
      };
    case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
      return {
        what: `load balancer, $${PRICES.alb.hour} an hour before capacity units`,
        monthly: hourly(PRICES.alb.hour),
        fixed: true,
      };
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable': {
      if (props.BillingMode === 'PAY_PER_REQUEST') return undefined;
      return {
        what: 'provisioned-capacity table: read and write units by the hour',
        monthly: undefined,
        fixed: true,
      };
    }
    case 'AWS::Lambda::Version':
    case 'AWS::Lambda::Alias':
      if (!props.ProvisionedConcurrencyConfig) return undefined;
      return {
        what: 'provisioned concurrency, by the GB-second while configured',
        monthly: undefined,
        fixed: true,
      };
    case 'AWS::ApiGateway::Stage':
      if (props.CacheClusterEnabled !== true) return undefined;
      return { what: 'API cache, by the hour', monthly: undefined, fixed: true };
    case 'AWS::KMS::Key':
      return {
        what: `customer managed key, $${PRICES.kms.customerKeyMonth} a month`,
        monthly: PRICES.kms.customerKeyMonth,
        fixed: true,
      };
    case 'AWS::SecretsManager::Secret':
      return {
        what: `secret, $${PRICES.secretsManager.secretMonth} a month`,
        monthly: PRICES.secretsManager.secretMonth,
        fixed: true,
      };
    case 'AWS::Route53::HostedZone':
      return {
        what: `hosted zone, $${PRICES.route53.hostedZoneMonth} a month`,
        monthly: PRICES.route53.hostedZoneMonth,
        fixed: true,
      };
    case 'AWS::WAFv2::WebACL':
      return {
        what: `web ACL, $${PRICES.waf.webAclMonth} a month before rules`,
        monthly: PRICES.waf.webAclMonth,
        fixed: true,
      };
    case 'AWS::CloudWatch::Dashboard':
      return {
        what: `dashboard, $${PRICES.cloudWatch.dashboardMonth} a month`,
        monthly: PRICES.cloudWatch.dashboardMonth,
        fixed: true,
      };
    case 'AWS::Kinesis::Stream':
      if ((props.StreamModeDetails as { StreamMode?: string } | undefined)?.StreamMode === 'ON_DEMAND') {
        return { what: 'on-demand stream, by the hour', monthly: undefined, fixed: true };
      }
      return { what: 'provisioned stream, shard hours', monthly: undefined, fixed: true };
    case 'AWS::SageMaker::Endpoint':
    case 'AWS::SageMaker::NotebookInstance':
    case 'AWS::SageMaker::MlflowTrackingServer':
    case 'AWS::RDS::DBInstance':
    case 'AWS::RDS::DBCluster':
    case 'AWS::ElastiCache::CacheCluster':
    case 'AWS::ElastiCache::ReplicationGroup':
    case 'AWS::ElastiCache::ServerlessCache':
    case 'AWS::EC2::Instance':
    case 'AWS::AutoScaling::AutoScalingGroup':
    case 'AWS::ECS::Service':
    case 'AWS::EKS::Cluster':
    case 'AWS::OpenSearchService::Domain':
    case 'AWS::OpenSearchServerless::Collection':
    case 'AWS::Elasticsearch::Domain':
    case 'AWS::MSK::Cluster':
    case 'AWS::Redshift::Cluster':
      return { what: 'instances or capacity, by the hour while it exists', monthly: undefined, fixed: true };
    default:
      return undefined;
  }
}

/** Every resource of the app that bills while idle, with its charge and its written reason if any. */
export function idleCharges(stacks: readonly SynthesizedStack[]): IdleCharge[] {
  return stacks.flatMap(({ stackName, template }) =>
    Object.entries(template.Resources ?? {}).flatMap(([logicalId, resource]) => {
      const charge = chargeOf(resource);
      if (!charge) return [];
      const reason = resource.Metadata?.[IDLE_COST_METADATA];
      return [
        {
          stackName,
          logicalId,
          type: resource.Type,
          ...charge,
          reason: typeof reason === 'string' && reason.trim() !== '' ? reason : undefined,
        },
      ];
    }),
  );
}

/** The fixed charges without a written reason: what `test/infra/idle-cost.test.ts` refuses. */
export function unexplainedIdleCharges(stacks: readonly SynthesizedStack[]): IdleCharge[] {
  return idleCharges(stacks).filter((charge) => charge.fixed && charge.reason === undefined);
}

/**
 * Records why a resource that bills by the hour or the month while idle is worth it (a sentence
 * for the person paying), on its CloudFormation resource, where `idleCharges` reads it.
 */
export function acknowledgeIdleCost(construct: IConstruct, reason: string): void {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource to record an idle cost on`);
  }
  if (reason.trim() === '') throw new Error('An idle cost needs a reason');
  resource.addMetadata(IDLE_COST_METADATA, reason);
}
