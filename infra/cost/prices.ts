/**
 * AWS list prices the cost model uses (`npm run bench -- cost`, `docs/cost.md`): on-demand,
 * us-east-1, in US dollars, before free tiers, as the pricing pages below gave them in December
 * 2026. One place, so a price that changes changes everywhere; AWS's pages are authoritative.
 */
export const PRICES = {
  asOf: '2026-12',
  region: 'us-east-1',
  /** https://aws.amazon.com/lambda/pricing/ (Arm: first 7.5 billion GB-s a month). */
  lambda: { armPerGbSecond: 0.000_013_333_4, perMillionRequests: 0.2 },
  /** https://aws.amazon.com/api-gateway/pricing/ (HTTP APIs, first 300 million; metered per 512 KB). */
  httpApi: { perMillionRequests: 1.0, meteredBytes: 512 * 1024 },
  /** https://aws.amazon.com/dynamodb/pricing/on-demand/ (standard table class). */
  dynamodb: {
    perMillionWriteUnits: 0.625,
    perMillionReadUnits: 0.125,
    storagePerGbMonth: 0.25,
    pointInTimeRecoveryPerGbMonth: 0.2,
  },
  /** https://aws.amazon.com/s3/pricing/ (S3 Standard). */
  s3: { storagePerGbMonth: 0.023, perThousandWrites: 0.005, perThousandReads: 0.0004 },
  /** https://aws.amazon.com/step-functions/pricing/ (standard workflows). */
  stepFunctions: { perThousandTransitions: 0.025 },
  /** https://aws.amazon.com/eventbridge/pricing/ (custom events; archive processing). */
  eventBridge: { perMillionEvents: 1.0, archivePerGb: 0.1 },
  /** https://aws.amazon.com/eventbridge/pricing/ (EventBridge Scheduler: the first 14 million a month free). */
  scheduler: { perMillionInvocations: 1.0, freeInvocationsPerMonth: 14_000_000 },
  /** https://aws.amazon.com/cloudwatch/pricing/ (standard log class; standard-resolution alarms). */
  cloudWatch: {
    logsIngestedPerGb: 0.5,
    logsStoredPerGbMonth: 0.03,
    alarmMetricMonth: 0.1,
    customMetricMonth: 0.3,
    dashboardMonth: 3.0,
  },
  /** https://aws.amazon.com/xray/pricing/ (traces recorded). */
  xray: { perMillionTraces: 5.0 },
  /** https://aws.amazon.com/kms/pricing/ (customer managed keys; AWS managed keys have no monthly fee). */
  kms: { customerKeyMonth: 1.0, perTenThousandRequests: 0.03 },
  /** https://aws.amazon.com/sqs/pricing/ (standard queues). */
  sqs: { perMillionRequests: 0.4 },
  /** https://aws.amazon.com/secrets-manager/pricing/ */
  secretsManager: { secretMonth: 0.4 },
  /** https://aws.amazon.com/route53/pricing/ */
  route53: { hostedZoneMonth: 0.5 },
  /** https://aws.amazon.com/waf/pricing/ */
  waf: { webAclMonth: 5.0 },
  /** Hourly: https://aws.amazon.com/vpc/pricing/ (NAT gateway, interface endpoint per AZ, public IPv4). */
  vpc: { natGatewayHour: 0.045, natPerGb: 0.045, interfaceEndpointHour: 0.01, publicIpv4Hour: 0.005 },
  /** https://aws.amazon.com/elasticloadbalancing/pricing/ (Application Load Balancer, before LCUs). */
  alb: { hour: 0.0225, lcuHour: 0.008 },
  /** https://aws.amazon.com/fargate/pricing/ (Linux/x86). */
  fargate: { vcpuHour: 0.040_48, gbHour: 0.004_445 },
  /** https://aws.amazon.com/rds/postgresql/pricing/ (db.t4g.micro, single-AZ; gp3 storage). */
  rdsPostgres: { t4gMicroHour: 0.016, storagePerGbMonth: 0.115, backupPerGbMonth: 0.095 },
  /** https://aws.amazon.com/sagemaker/pricing/ (managed MLflow tracking server, Small). */
  sagemakerMlflow: { smallHour: 0.642 },
  /** https://aws.amazon.com/sagemaker/pricing/ (real-time inference, ml.m5.large). */
  sagemakerEndpoint: { mlM5LargeHour: 0.115 },
  /** https://aws.amazon.com/sagemaker/pricing/ (Processing, ml.m5.xlarge: Model Monitor's default instance). */
  sagemakerProcessing: { mlM5XlargeHour: 0.23 },
} as const;

/** Hours in a month, as AWS's pricing examples count them. */
export const HOURS_PER_MONTH = 730;
