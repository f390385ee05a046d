import { describe, expect, it } from 'vitest';
import {
  compileEventPattern,
  InvalidEventPatternError,
  matchesEventPattern,
} from '../../infra/local/events/event-pattern.ts';

/**
 * Rows quote the examples of the Amazon EventBridge User Guide; `section` names the page and section
 * ("Event patterns", "Matching null values and empty strings", "Arrays in event patterns", "Content
 * filtering" and its subsections, and the "Comparison operators" summary table, whose rows give a
 * pattern without an event). Rows marked "edge" test behaviour the guide leaves to Event Ruler, the
 * matching engine EventBridge runs.
 */
interface MatchRow {
  readonly section: string;
  readonly name: string;
  readonly pattern: unknown;
  readonly event: unknown;
  readonly expected: boolean;
}

// "Event patterns": the Amazon EC2 event the guide opens with.
const EC2_EVENT = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

const EC2_TERMINATED_PATTERN = {
  source: ['aws.ec2'],
  'detail-type': ['EC2 Instance State-change Notification'],
  detail: { state: ['terminated'] },
};

// "Matching null values and empty strings": the Auto Scaling event.
const AUTOSCALING_EVENT = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

// "Value matching": the (truncated) Amazon Macie Classic alert.
const MACIE_EVENT = {
  version: '0',
  id: '3e355723-fca9-4de3-9fd7-154c289d6b59',
  'detail-type': 'Macie Alert',
  source: 'aws.macie',
  account: '123456789012',
  time: '2017-04-24T22:28:49Z',
  region: 'us-east-1',
  resources: [
    'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id',
    'arn:aws:macie:us-east-1:123456789012:trigger/trigger_id',
  ],
  detail: {
    'notification-type': 'ALERT_CREATED',
    name: 'Scanning bucket policies',
    tags: ['Custom_Alert', 'Insider'],
    'risk-score': 80,
    trigger: { 'alert-type': 'basic', risk: 8 },
  },
};

const MACIE_PATTERN = {
  source: ['aws.macie'],
  'detail-type': ['Macie Alert'],
  detail: { 'risk-score': [80], trigger: { risk: [8] } },
};

// "Arrays in event patterns".
const ARRAYS_PATTERN = {
  resources: [
    'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
    'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
    'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
  ],
};

// "Content filtering" numeric, anything-but and complex examples, applied to an EC2 event carrying
// the fields they name.
const COUNTS_EVENT = {
  source: 'aws.ec2',
  time: '2017-10-02T16:24:49Z',
  detail: { 'c-count': 5, 'd-count': 3, 'x-limit': 301.8, 'source-ip': '10.0.0.33', state: 'running' },
};

const NUMERIC_PATTERN = {
  detail: {
    'c-count': [{ numeric: ['>', 0, '<=', 5] }],
    'd-count': [{ numeric: ['<', 10] }],
    'x-limit': [{ numeric: ['=', 3.018e2] }],
  },
};

const COMPLEX_PATTERN = {
  time: [{ prefix: '2017-10-02' }],
  detail: {
    state: [{ 'anything-but': 'initializing' }],
    'c-count': [{ numeric: ['>', 0, '<=', 5] }],
    'd-count': [{ numeric: ['<', 10] }],
    'x-limit': [{ 'anything-but': [100, 200, 300] }],
  },
};

// "Content filtering", Or matching.
const CLOUDWATCH_OR_PATTERN = {
  source: ['aws.cloudwatch'],
  $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
};

const DETAIL_OR_PATTERN = {
  detail: {
    $or: [
      { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
      { 'd-count': [{ numeric: ['<', 10] }] },
      { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
    ],
  },
};

// source && (metricName || (metricType && namespace && (metricId || spaceId)) || scope)
const NESTED_OR_PATTERN = {
  source: ['aws.cloudwatch'],
  $or: [
    { metricName: ['CPUUtilization', 'ReadLatency'] },
    {
      metricType: ['MetricType'],
      namespace: ['AWS/EC2', 'AWS/ES'],
      $or: [{ metricId: [1234] }, { spaceId: [1000] }],
    },
    { scope: ['Service'] },
  ],
};

// Array consistency (edge): the fields of one nested pattern must come from one array element.
const EMPLOYEES_EVENT = {
  employees: [
    { firstName: 'John', lastName: 'Doe' },
    { firstName: 'Anna', lastName: 'Smith' },
    { firstName: 'Peter', lastName: 'Jones' },
  ],
};

const matchRows: readonly MatchRow[] = [
  // --- Event patterns, exact values --------------------------------------------------------------
  {
    section: 'Event patterns',
    name: 'the instance-termination pattern matches the EC2 event',
    pattern: EC2_TERMINATED_PATTERN,
    event: EC2_EVENT,
    expected: true,
  },
  {
    section: 'Event patterns',
    name: 'a different state does not match',
    pattern: EC2_TERMINATED_PATTERN,
    event: { ...EC2_EVENT, detail: { ...EC2_EVENT.detail, state: 'running' } },
    expected: false,
  },
  {
    section: 'Event patterns',
    name: 'string matching is exact: no case folding',
    pattern: { source: ['AWS.EC2'] },
    event: EC2_EVENT,
    expected: false,
  },
  {
    section: 'Event patterns, Match values',
    name: '"source": ["aws.ec2", "aws.fargate"] matches aws.fargate',
    pattern: { source: ['aws.ec2', 'aws.fargate'] },
    event: { ...EC2_EVENT, source: 'aws.fargate' },
    expected: true,
  },
  {
    section: 'Event patterns, Match values',
    name: '"source": ["aws.ec2", "aws.fargate"] does not match aws.s3',
    pattern: { source: ['aws.ec2', 'aws.fargate'] },
    event: { ...EC2_EVENT, source: 'aws.s3' },
    expected: false,
  },
  {
    section: 'Event patterns, Value matching',
    name: 'risk-score 80 and trigger risk 8 match the Macie alert',
    pattern: MACIE_PATTERN,
    event: MACIE_EVENT,
    expected: true,
  },
  {
    section: 'Event patterns, Value matching',
    name: 'a risk-score of 79 does not match',
    pattern: MACIE_PATTERN,
    event: { ...MACIE_EVENT, detail: { ...MACIE_EVENT.detail, 'risk-score': 79 } },
    expected: false,
  },
  {
    section: 'Event patterns (edge)',
    name: 'a field the event lacks never matches a value',
    pattern: { detail: { 'instance-type': ['t3.micro'] } },
    event: EC2_EVENT,
    expected: false,
  },
  {
    section: 'Event patterns (edge)',
    name: 'a nested pattern does not match a leaf value',
    pattern: { detail: { state: { name: ['terminated'] } } },
    event: EC2_EVENT,
    expected: false,
  },
  {
    section: 'Event patterns (edge)',
    name: 'numbers compare as numbers: [3.0e2] matches 300',
    pattern: '{"detail": {"risk": [3.0e2]}}',
    event: JSON.parse('{"detail": {"risk": 300}}'),
    expected: true,
  },
  {
    section: 'Event patterns (edge)',
    name: 'numbers compare as numbers: [5] matches 5.0',
    pattern: '{"n": [5]}',
    event: JSON.parse('{"n": 5.0}'),
    expected: true,
  },
  {
    section: 'Event patterns (edge)',
    name: 'the number 5 does not match the string "5"',
    pattern: { n: [5] },
    event: { n: '5' },
    expected: false,
  },
  {
    section: 'Event patterns (edge)',
    name: 'the string "true" does not match the boolean true',
    pattern: { flag: ['true'] },
    event: { flag: true },
    expected: false,
  },
  {
    section: 'Event patterns (edge)',
    name: 'a boolean matches the same boolean',
    pattern: { flag: [true] },
    event: { flag: true },
    expected: true,
  },

  // --- Null values and empty strings ---------------------------------------------------------------
  {
    section: 'Matching null values and empty strings',
    name: '"eventVersion": [""] matches an empty string',
    pattern: { detail: { eventVersion: [''] } },
    event: AUTOSCALING_EVENT,
    expected: true,
  },
  {
    section: 'Matching null values and empty strings',
    name: '"responseElements": [null] matches null',
    pattern: { detail: { responseElements: [null] } },
    event: AUTOSCALING_EVENT,
    expected: true,
  },
  {
    section: 'Matching null values and empty strings',
    name: 'an empty-string pattern does not match null',
    pattern: { detail: { responseElements: [''] } },
    event: AUTOSCALING_EVENT,
    expected: false,
  },
  {
    section: 'Matching null values and empty strings',
    name: 'a null pattern does not match an empty string',
    pattern: { detail: { eventVersion: [null] } },
    event: AUTOSCALING_EVENT,
    expected: false,
  },
  {
    section: 'Event patterns, Field matching',
    name: 'source, detail-type and a null responseElements match the Auto Scaling event',
    pattern: {
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance Launch Successful'],
      detail: { responseElements: [null] },
    },
    event: AUTOSCALING_EVENT,
    expected: true,
  },

  // --- Arrays ------------------------------------------------------------------------------------
  {
    section: 'Arrays in event patterns',
    name: 'matches when the pattern and event arrays intersect',
    pattern: ARRAYS_PATTERN,
    event: {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    },
    expected: true,
  },
  {
    section: 'Arrays in event patterns',
    name: 'does not match when the arrays are disjoint',
    pattern: ARRAYS_PATTERN,
    event: EC2_EVENT,
    expected: false,
  },
  {
    section: 'Arrays in event patterns (edge)',
    name: 'an empty event array matches no value',
    pattern: { resources: [{ exists: true }] },
    event: AUTOSCALING_EVENT,
    expected: false,
  },
  {
    section: 'Arrays in event patterns (edge)',
    name: 'nested event arrays are looked through',
    pattern: { matrix: [4] },
    event: {
      matrix: [
        [1, 2],
        [3, [4]],
      ],
    },
    expected: true,
  },
  {
    section: 'Arrays in event patterns (edge)',
    name: 'a nested pattern matches an object inside an event array',
    pattern: { employees: { firstName: ['Anna'] } },
    event: EMPLOYEES_EVENT,
    expected: true,
  },
  {
    section: 'Arrays in event patterns (edge)',
    name: 'fields of one element match together (Anna Smith)',
    pattern: { employees: { firstName: ['Anna'], lastName: ['Smith'] } },
    event: EMPLOYEES_EVENT,
    expected: true,
  },
  {
    section: 'Arrays in event patterns (edge)',
    name: 'fields of different elements never combine (Anna Jones)',
    pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
    event: EMPLOYEES_EVENT,
    expected: false,
  },
  {
    section: 'Arrays in event patterns (edge)',
    name: 'leaf values mixed with objects in an array still match',
    pattern: { tags: ['Insider'] },
    event: { tags: [{ key: 'x' }, 'Insider'] },
    expected: true,
  },

  // --- Prefix --------------------------------------------------------------------------------------
  {
    section: 'Content filtering, Prefix matching',
    name: '"time" starting with "2017-10-02" matches',
    pattern: { time: [{ prefix: '2017-10-02' }] },
    event: { time: '2017-10-02T18:43:48Z' },
    expected: true,
  },
  {
    section: 'Content filtering, Prefix matching',
    name: 'another day does not match',
    pattern: { time: [{ prefix: '2017-10-02' }] },
    event: EC2_EVENT,
    expected: false,
  },
  {
    section: 'Content filtering, Prefix matching (edge)',
    name: 'prefix applies to strings only',
    pattern: { n: [{ prefix: '12' }] },
    event: { n: 123 },
    expected: false,
  },
  {
    section: 'Content filtering, Prefix matching while ignoring case',
    name: '{"prefix": {"equals-ignore-case": "EventB"}} matches "EVENTBRIDGE"',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: { detail: { service: 'EVENTBRIDGE' } },
    expected: true,
  },
  {
    section: 'Content filtering, Prefix matching while ignoring case',
    name: 'a value starting otherwise does not match',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: { detail: { service: 'Lambda' } },
    expected: false,
  },

  // --- Suffix --------------------------------------------------------------------------------------
  {
    section: 'Content filtering, Suffix matching',
    name: '"FileName" ending in .png matches',
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.png' },
    expected: true,
  },
  {
    section: 'Content filtering, Suffix matching',
    name: 'suffix is case-sensitive: .PNG does not match',
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.PNG' },
    expected: false,
  },
  {
    section: 'Content filtering, Suffix matching while ignoring case',
    name: '{"suffix": {"equals-ignore-case": ".png"}} matches .PNG',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: { detail: { FileName: 'image.PNG' } },
    expected: true,
  },
  {
    section: 'Content filtering, Suffix matching while ignoring case',
    name: 'a .jpg does not match',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: { detail: { FileName: 'image.jpg' } },
    expected: false,
  },
  {
    section: 'Comparison operators, Ends with (ignore case)',
    name: '{"suffix": {"equals-ignore-case": "tBridge"}} matches "EVENTBRIDGE"',
    pattern: { service: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] },
    event: { service: 'EVENTBRIDGE' },
    expected: true,
  },

  // --- Equals-ignore-case ------------------------------------------------------------------------
  {
    section: 'Comparison operators, Equals (ignore case)',
    name: '{"equals-ignore-case": "alice"} matches "Alice"',
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    event: { Name: 'Alice' },
    expected: true,
  },
  {
    section: 'Comparison operators, Equals (ignore case)',
    name: 'does not match a longer name',
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    event: { Name: 'Alicia' },
    expected: false,
  },
  {
    section: 'Comparison operators, Equals (ignore case) (edge)',
    name: 'folds each character to its upper case, even a longer one: "straße" matches "STRASSE"',
    pattern: { city: [{ 'equals-ignore-case': 'straße' }] },
    event: { city: 'STRASSE' },
    expected: true,
  },
  {
    section: 'Comparison operators, Equals (ignore case) (edge)',
    name: 'regular-expression characters are literal',
    pattern: { path: [{ 'equals-ignore-case': 'a.b' }] },
    event: { path: 'AxB' },
    expected: false,
  },

  // --- Anything-but --------------------------------------------------------------------------------
  {
    section: 'Content filtering, Anything-but matching',
    name: '{"anything-but": "initializing"} matches "running"',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: COUNTS_EVENT,
    expected: true,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: '{"anything-but": "initializing"} does not match "initializing"',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: { detail: { state: 'initializing' } },
    expected: false,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: '{"anything-but": 123} matches 301.8',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    event: COUNTS_EVENT,
    expected: true,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: '{"anything-but": 123} does not match 123',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    event: { detail: { 'x-limit': 123 } },
    expected: false,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: 'a list of strings: "stopped" is excluded',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: { detail: { state: 'stopped' } },
    expected: false,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: 'a list of strings: "running" is not excluded',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: COUNTS_EVENT,
    expected: true,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: 'a list of numbers: 200 is excluded',
    pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    event: { detail: { 'x-limit': 200 } },
    expected: false,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: '{"anything-but": {"prefix": "init"}} does not match "initializing"',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: { detail: { state: 'initializing' } },
    expected: false,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: '{"anything-but": {"prefix": "init"}} matches "running"',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: COUNTS_EVENT,
    expected: true,
  },
  {
    section: 'Comparison operators, Anything-but (ends with)',
    name: '{"anything-but": {"suffix": ".png"}} matches a .txt file',
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    event: { FileName: 'notes.txt' },
    expected: true,
  },
  {
    section: 'Comparison operators, Anything-but (ends with)',
    name: '{"anything-but": {"suffix": ".png"}} does not match a .png file',
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    event: { FileName: 'image.png' },
    expected: false,
  },
  {
    section: 'Comparison operators, Anything-but (ignore case)',
    name: 'excludes "INITIALIZING" too',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    event: { state: 'INITIALIZING' },
    expected: false,
  },
  {
    section: 'Comparison operators, Anything-but (ignore case)',
    name: 'a list: "Running" is not excluded',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] },
    event: { state: 'Running' },
    expected: true,
  },
  {
    section: 'Comparison operators, Anything-but using a wildcard',
    name: '"*/lib/*" excludes a path in a lib folder',
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: { FilePath: '/usr/lib/libc.so' },
    expected: false,
  },
  {
    section: 'Comparison operators, Anything-but using a wildcard',
    name: '"*/lib/*" matches a path elsewhere',
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: { FilePath: '/usr/bin/env' },
    expected: true,
  },
  {
    section: 'Comparison operators, Not',
    name: '"Weather": [{"anything-but": ["Raining"]}] matches "Sunny"',
    pattern: { Weather: [{ 'anything-but': ['Raining'] }] },
    event: { Weather: 'Sunny' },
    expected: true,
  },
  {
    section: 'Comparison operators, Anything-but (edge)',
    name: 'anything-but still needs the field',
    pattern: { Weather: [{ 'anything-but': ['Raining'] }] },
    event: { Temperature: 20 },
    expected: false,
  },
  {
    section: 'Comparison operators, Anything-but (edge)',
    name: 'an event array matches when any element is not excluded',
    pattern: { price: [{ 'anything-but': [100, 500] }] },
    event: { price: [100, 50] },
    expected: true,
  },
  {
    section: 'Comparison operators, Anything-but (edge)',
    name: 'an event array of excluded values does not match',
    pattern: { price: [{ 'anything-but': [100, 500] }] },
    event: { price: [100, 500] },
    expected: false,
  },
  {
    section: 'Comparison operators, Anything-but (edge)',
    name: 'excluding the number 100 does not exclude the string "100"',
    pattern: { price: [{ 'anything-but': [100] }] },
    event: { price: '100' },
    expected: true,
  },
  {
    section: 'Comparison operators, Anything-but (edge)',
    name: 'excluding a string does not exclude null',
    pattern: { state: [{ 'anything-but': 'initializing' }] },
    event: { state: null },
    expected: true,
  },

  // --- Numeric -------------------------------------------------------------------------------------
  {
    section: 'Content filtering, Numeric matching',
    name: 'c-count in (0, 5], d-count < 10 and x-limit = 3.018e2 match',
    pattern: NUMERIC_PATTERN,
    event: COUNTS_EVENT,
    expected: true,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: 'a c-count of 0 is outside (0, 5]',
    pattern: NUMERIC_PATTERN,
    event: { detail: { ...COUNTS_EVENT.detail, 'c-count': 0 } },
    expected: false,
  },
  {
    section: 'Comparison operators, Numeric (equals)',
    name: '"Price": [{"numeric": ["=", 100]}] matches 100',
    pattern: { Price: [{ numeric: ['=', 100] }] },
    event: { Price: 100 },
    expected: true,
  },
  {
    section: 'Comparison operators, Numeric (equals)',
    name: 'does not match 100.5',
    pattern: { Price: [{ numeric: ['=', 100] }] },
    event: { Price: 100.5 },
    expected: false,
  },
  {
    section: 'Comparison operators, Numeric (range)',
    name: '[">", 10, "<=", 20] includes 20',
    pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] },
    event: { Price: 20 },
    expected: true,
  },
  {
    section: 'Comparison operators, Numeric (range)',
    name: '[">", 10, "<=", 20] excludes 10',
    pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] },
    event: { Price: 10 },
    expected: false,
  },
  {
    section: 'Comparison operators, Numeric (range) (edge)',
    name: '[">=", 10, "<", 20] includes 10 and excludes 20',
    pattern: { a: [{ numeric: ['>=', 10, '<', 20] }], b: [{ numeric: ['>=', 10, '<', 20] }] },
    event: { a: 10, b: 19.999 },
    expected: true,
  },
  {
    section: 'Comparison operators, Numeric (range) (edge)',
    name: 'only JSON numbers match: the string "15" does not',
    pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] },
    event: { Price: '15' },
    expected: false,
  },
  {
    section: 'Content filtering, Numeric matching (edge)',
    name: 'numbers beyond 5e9 never match a range',
    pattern: { bytes: [{ numeric: ['>', 0] }] },
    event: { bytes: 6e9 },
    expected: false,
  },
  {
    section: 'Content filtering, Numeric matching (edge)',
    name: 'any element of an event array may be in range',
    pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] },
    event: { Price: [1, 15] },
    expected: true,
  },

  // --- IP addresses --------------------------------------------------------------------------------
  {
    section: 'Content filtering, IP address matching',
    name: '"10.0.0.0/24" contains 10.0.0.255',
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: { detail: { sourceIPAddress: '10.0.0.255' } },
    expected: true,
  },
  {
    section: 'Content filtering, IP address matching',
    name: '"10.0.0.0/24" does not contain 10.0.1.0',
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: { detail: { sourceIPAddress: '10.0.1.0' } },
    expected: false,
  },
  {
    section: 'Content filtering, IP address matching (edge)',
    name: 'an IPv6 block contains an address in any spelling',
    pattern: { ip: [{ cidr: '2001:db8::/32' }] },
    event: { ip: '2001:0DB8:ffff::1' },
    expected: true,
  },
  {
    section: 'Content filtering, IP address matching (edge)',
    name: 'an IPv6 block does not contain a neighbouring address',
    pattern: { ip: [{ cidr: '2001:db8::/32' }] },
    event: { ip: '2001:db9::1' },
    expected: false,
  },
  {
    section: 'Content filtering, IP address matching (edge)',
    name: 'an IPv4 address is never in an IPv6 block',
    pattern: { ip: [{ cidr: '::/1' }] },
    event: { ip: '10.0.0.1' },
    expected: false,
  },
  {
    section: 'Content filtering, IP address matching (edge)',
    name: 'a string that is no IP address is never in a block',
    pattern: { ip: [{ cidr: '10.0.0.0/8' }] },
    event: { ip: '10.0.0.x' },
    expected: false,
  },
  {
    section: 'Content filtering, IP address matching (edge)',
    name: 'an exact IP address matches another spelling of it',
    pattern: { ip: ['2001:db8::1'] },
    event: { ip: '2001:0DB8:0:0:0:0:0:1' },
    expected: true,
  },

  // --- Exists --------------------------------------------------------------------------------------
  {
    section: 'Content filtering, Exists matching',
    name: '"c-count": [{"exists": false}] matches an event without c-count',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
      detail: { state: ['initializing', 'running'] },
    },
    expected: true,
  },
  {
    section: 'Content filtering, Exists matching',
    name: '"exists": false also matches when c-count is not a leaf',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
      detail: { state: ['initializing', 'running'], 'c-count': { c1: 100 } },
    },
    expected: true,
  },
  {
    section: 'Content filtering, Exists matching',
    name: '"exists": false does not match when c-count is there',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: COUNTS_EVENT,
    expected: false,
  },
  {
    section: 'Comparison operators, Exists',
    name: '"ProductName": [{"exists": true}] matches a product name',
    pattern: { ProductName: [{ exists: true }] },
    event: { ProductName: 'Widget' },
    expected: true,
  },
  {
    section: 'Comparison operators, Exists',
    name: '"exists": true does not match a missing field',
    pattern: { ProductName: [{ exists: true }] },
    event: { Price: 10 },
    expected: false,
  },
  {
    section: 'Content filtering, Exists matching (edge)',
    name: '"exists": true does not match an object (only leaves exist)',
    pattern: { detail: { 'c-count': [{ exists: true }] } },
    event: { detail: { 'c-count': { c1: 100 } } },
    expected: false,
  },
  {
    section: 'Content filtering, Exists matching (edge)',
    name: '"exists": false does not match a field present with null',
    pattern: { detail: { responseElements: [{ exists: false }] } },
    event: AUTOSCALING_EVENT,
    expected: false,
  },
  {
    section: 'Content filtering, Exists matching (edge)',
    name: '"exists": true matches a field present with null',
    pattern: { detail: { responseElements: [{ exists: true }] } },
    event: AUTOSCALING_EVENT,
    expected: true,
  },
  {
    section: 'Content filtering, Exists matching (edge)',
    name: '"exists": false matches when the parent object is missing too',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: { source: 'aws.ec2' },
    expected: true,
  },
  {
    section: 'Content filtering, Exists matching (edge)',
    name: '"exists": false matches an empty array (it holds no leaf)',
    pattern: { resources: [{ exists: false }] },
    event: AUTOSCALING_EVENT,
    expected: true,
  },
  {
    section: 'Content filtering, Exists matching (edge)',
    name: 'an absence needs the field missing from every array element',
    pattern: { items: { sku: [{ exists: false }] } },
    event: { items: [{ sku: 'a-1' }, { name: 'no sku' }] },
    expected: false,
  },
  {
    section: 'Content filtering, Exists matching (edge)',
    name: 'an absence beside a value is checked in the element that value matched',
    pattern: { items: { name: ['no sku'], sku: [{ exists: false }] } },
    event: { items: [{ sku: 'a-1' }, { name: 'no sku' }] },
    expected: true,
  },
  {
    section: 'Content filtering, Exists matching (edge)',
    name: 'a value or absence list: [1, {"exists": false}] matches a missing field',
    pattern: { retries: [0, { exists: false }] },
    event: { other: true },
    expected: true,
  },
  {
    section: 'Content filtering, Exists matching (edge)',
    name: 'inherited properties such as "constructor" do not exist',
    pattern: { constructor: [{ exists: true }] },
    event: {},
    expected: false,
  },

  // --- Wildcard ------------------------------------------------------------------------------------
  {
    section: 'Comparison operators, Wildcard',
    name: '"dir/*.png" matches a .png in dir',
    pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
    event: { FileName: 'dir/image.png' },
    expected: true,
  },
  {
    section: 'Comparison operators, Wildcard',
    name: '"dir/*.png" does not match a .jpg',
    pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
    event: { FileName: 'dir/image.jpg' },
    expected: false,
  },
  {
    section: 'Comparison operators, Wildcard',
    name: '"dir/*.png" does not match another folder',
    pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
    event: { FileName: 'other/image.png' },
    expected: false,
  },
  {
    section: 'Content filtering, Wildcard matching (edge)',
    name: 'several wildcards: an event bus ARN in any account',
    pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    event: { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/myEventBus' },
    expected: true,
  },
  {
    section: 'Content filtering, Wildcard matching (edge)',
    name: '"*" matches the empty string',
    pattern: { name: [{ wildcard: '*' }] },
    event: { name: '' },
    expected: true,
  },
  {
    section: 'Content filtering, Wildcard matching (edge)',
    name: 'segments may not overlap: "ab*ba" does not match "aba"',
    pattern: { name: [{ wildcard: 'ab*ba' }] },
    event: { name: 'aba' },
    expected: false,
  },
  {
    section: 'Content filtering, Wildcard matching (edge)',
    name: '"\\*" is a literal asterisk',
    pattern: { name: [{ wildcard: 'a\\*b' }] },
    event: { name: 'a*b' },
    expected: true,
  },
  {
    section: 'Content filtering, Wildcard matching (edge)',
    name: '"\\*" does not act as a wildcard',
    pattern: { name: [{ wildcard: 'a\\*b' }] },
    event: { name: 'axb' },
    expected: false,
  },
  {
    section: 'Content filtering, Wildcard matching (edge)',
    name: '"\\\\" is a literal backslash',
    pattern: { path: [{ wildcard: 'C:\\\\*' }] },
    event: { path: 'C:\\Windows' },
    expected: true,
  },
  {
    section: 'Content filtering, Wildcard matching (edge)',
    name: 'wildcards apply to strings only',
    pattern: { n: [{ wildcard: '1*' }] },
    event: { n: 10 },
    expected: false,
  },

  // --- $or -----------------------------------------------------------------------------------------
  {
    section: 'Comparison operators, Or (multiple fields)',
    name: 'Location is "New York" or Day is "Monday": Monday matches',
    pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
    event: { Location: 'Boston', Day: 'Monday' },
    expected: true,
  },
  {
    section: 'Comparison operators, Or (multiple fields)',
    name: 'neither New York nor Monday does not match',
    pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
    event: { Location: 'Boston', Day: 'Tuesday' },
    expected: false,
  },
  {
    section: 'Content filtering, Or matching',
    name: 'source and (metricName or namespace): the namespace matches',
    pattern: CLOUDWATCH_OR_PATTERN,
    event: { source: 'aws.cloudwatch', metricName: 'NetworkIn', namespace: 'AWS/ES' },
    expected: true,
  },
  {
    section: 'Content filtering, Or matching',
    name: 'the $or holding does not excuse the other fields',
    pattern: CLOUDWATCH_OR_PATTERN,
    event: { source: 'aws.ec2', metricName: 'CPUUtilization' },
    expected: false,
  },
  {
    section: 'Content filtering, Or matching',
    name: 'a $or inside "detail": d-count < 10 is enough',
    pattern: DETAIL_OR_PATTERN,
    event: { detail: { 'c-count': 0, 'd-count': 3 } },
    expected: true,
  },
  {
    section: 'Content filtering, Or matching',
    name: 'a $or inside "detail": no branch holds',
    pattern: DETAIL_OR_PATTERN,
    event: { detail: { 'c-count': 0, 'd-count': 30, 'x-limit': 1 } },
    expected: false,
  },
  {
    section: 'Content filtering, Or matching (edge)',
    name: 'nested $or: metricType, namespace and spaceId match',
    pattern: NESTED_OR_PATTERN,
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 },
    expected: true,
  },
  {
    section: 'Content filtering, Or matching (edge)',
    name: 'nested $or: the inner $or must hold as well',
    pattern: NESTED_OR_PATTERN,
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1 },
    expected: false,
  },
  {
    section: 'Content filtering, Or matching (edge)',
    name: 'a $or branch may be an absence',
    pattern: { $or: [{ state: ['running'] }, { state: [{ exists: false }] }] },
    event: { source: 'aws.ec2' },
    expected: true,
  },
  {
    section: 'Content filtering, Or matching (edge)',
    name: 'an absence branch does not hold if any array element has the field',
    pattern: { items: { $or: [{ sku: ['z-9'] }, { sku: [{ exists: false }] }] } },
    event: { items: [{ sku: 'a-1' }, { name: 'no sku' }] },
    expected: false,
  },

  // --- Complex example -----------------------------------------------------------------------------
  {
    section: 'Content filtering, Complex example with multiple matching',
    name: 'prefix, anything-but and numeric together match',
    pattern: COMPLEX_PATTERN,
    event: COUNTS_EVENT,
    expected: true,
  },
  {
    section: 'Content filtering, Complex example with multiple matching',
    name: 'one failing field (x-limit 300) fails the whole pattern',
    pattern: COMPLEX_PATTERN,
    event: { ...COUNTS_EVENT, detail: { ...COUNTS_EVENT.detail, 'x-limit': 300 } },
    expected: false,
  },

  // --- Events that are not objects -----------------------------------------------------------------
  {
    section: 'Event patterns (edge)',
    name: 'an event that is not a JSON object never matches, even an absence',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: [],
    expected: false,
  },
  {
    section: 'Event patterns (edge)',
    name: 'null is not an event',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: null,
    expected: false,
  },
];

describe('EventBridge event patterns: matching', () => {
  it.each(matchRows)('$section: $name', ({ pattern, event, expected }) => {
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });

  it('accepts the pattern as JSON text, as PutRule does', () => {
    const compiled = compileEventPattern(JSON.stringify(EC2_TERMINATED_PATTERN));
    expect(compiled.matches(EC2_EVENT)).toBe(true);
    expect(compiled.matches(AUTOSCALING_EVENT)).toBe(false);
  });

  it('compiles once and matches any number of events', () => {
    const compiled = compileEventPattern(NUMERIC_PATTERN);
    const counts = [0, 1, 5, 6].map((count) =>
      compiled.matches({ detail: { ...COUNTS_EVENT.detail, 'c-count': count } }),
    );
    expect(counts).toEqual([false, true, true, false]);
  });
});

interface InvalidRow {
  readonly section: string;
  readonly name: string;
  readonly pattern: unknown;
  readonly message: RegExp;
}

const invalidRows: readonly InvalidRow[] = [
  // --- Structure -----------------------------------------------------------------------------------
  {
    section: 'Event patterns',
    name: 'a pattern that is an array',
    pattern: [],
    message: /must be a JSON object/,
  },
  {
    section: 'Event patterns',
    name: 'a pattern that is null',
    pattern: null,
    message: /must be a JSON object/,
  },
  {
    section: 'Event patterns',
    name: 'a pattern that is a number',
    pattern: 42,
    message: /must be a JSON object/,
  },
  {
    section: 'Event patterns',
    name: 'JSON text that is not an object',
    pattern: '"aws.ec2"',
    message: /must be a JSON object/,
  },
  {
    section: 'Event patterns',
    name: 'text that is not JSON',
    pattern: '{"source": [',
    message: /not valid JSON/,
  },
  {
    section: 'Event patterns',
    name: 'an empty pattern',
    pattern: {},
    message: /empty objects are not allowed/,
  },
  {
    section: 'Event patterns',
    name: 'an empty nested object',
    pattern: { detail: {} },
    message: /"detail": empty objects/,
  },
  {
    section: 'Event patterns, Match values',
    name: 'a leaf that is not an array',
    pattern: { source: 'aws.ec2' },
    message: /"source": a field must hold an object or an array/,
  },
  {
    section: 'Event patterns, Match values',
    name: 'a leaf that is a number',
    pattern: { detail: { risk: 8 } },
    message: /"detail\.risk": a field must hold/,
  },
  {
    section: 'Arrays in event patterns',
    name: 'an empty array of values',
    pattern: { source: [] },
    message: /empty arrays are not allowed/,
  },
  {
    section: 'Arrays in event patterns',
    name: 'an array nested in the values',
    pattern: { source: [['aws.ec2']] },
    message: /match values must be strings, numbers/,
  },
  {
    section: 'Event patterns',
    name: 'a number that JSON cannot hold',
    pattern: { n: [Number.NaN] },
    message: /not a JSON number/,
  },

  // --- Operators -----------------------------------------------------------------------------------
  {
    section: 'Comparison operators',
    name: 'an unknown operator',
    pattern: { source: [{ contains: 'ec2' }] },
    message: /unknown operator "contains"/,
  },
  {
    section: 'Comparison operators',
    name: 'an empty match expression',
    pattern: { source: [{}] },
    message: /empty match expression/,
  },
  {
    section: 'Comparison operators',
    name: 'two operators in one match expression',
    pattern: { source: [{ prefix: 'aws.', suffix: 'ec2' }] },
    message: /exactly one operator, found "prefix", "suffix"/,
  },
  {
    section: 'Content filtering, Prefix matching',
    name: 'a prefix that is not a string',
    pattern: { time: [{ prefix: 2017 }] },
    message: /"prefix" takes a string/,
  },
  {
    section: 'Content filtering, Prefix matching while ignoring case',
    name: 'a prefix object other than equals-ignore-case',
    pattern: { service: [{ prefix: { wildcard: 'Event*' } }] },
    message: /under "prefix" takes exactly one of "equals-ignore-case"/,
  },
  {
    section: 'Comparison operators, Equals (ignore case)',
    name: 'equals-ignore-case with a number',
    pattern: { Name: [{ 'equals-ignore-case': 1 }] },
    message: /"equals-ignore-case" takes a string/,
  },
  {
    section: 'Content filtering, Exists matching',
    name: 'exists with a string',
    pattern: { detail: { 'c-count': [{ exists: 'false' }] } },
    message: /"exists" takes true or false/,
  },

  // --- numeric -------------------------------------------------------------------------------------
  {
    section: 'Content filtering, Numeric matching',
    name: 'numeric that is not an array',
    pattern: { Price: [{ numeric: 100 }] },
    message: /"numeric" takes an array/,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: 'numeric without terms',
    pattern: { Price: [{ numeric: [] }] },
    message: /must start with one of/,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: 'an unknown numeric operator',
    pattern: { Price: [{ numeric: ['!=', 100] }] },
    message: /unknown numeric operator "!="/,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: 'a numeric operand that is a string',
    pattern: { Price: [{ numeric: ['<', '10'] }] },
    message: /"<" must be followed by a number/,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: 'an operator without an operand',
    pattern: { Price: [{ numeric: ['>', 0, '<='] }] },
    message: /"<=" must be followed by a number/,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: 'more than two comparisons',
    pattern: { Price: [{ numeric: ['>', 0, '<', 10, '<', 5] }] },
    message: /at most two comparisons/,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: 'an upper bound before a lower bound',
    pattern: { Price: [{ numeric: ['<', 10, '>', 0] }] },
    message: /at most two comparisons/,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: 'two lower bounds',
    pattern: { Price: [{ numeric: ['>', 0, '>=', 5] }] },
    message: /may only be followed by "<" or "<="/,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: '"=" with a second comparison',
    pattern: { Price: [{ numeric: ['=', 1, '<', 2] }] },
    message: /at most two comparisons/,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: 'an operand beyond 5e9',
    pattern: { Price: [{ numeric: ['>', 6e9] }] },
    message: /between -5e9 and 5e9/,
  },
  {
    section: 'Content filtering, Numeric matching',
    name: 'an empty range',
    pattern: { Price: [{ numeric: ['>', 10, '<', 5] }] },
    message: /range is empty/,
  },

  // --- anything-but --------------------------------------------------------------------------------
  {
    section: 'Content filtering, Anything-but matching',
    name: 'a list mixing strings and numbers',
    pattern: { state: [{ 'anything-but': ['stopped', 1] }] },
    message: /only strings or only numbers/,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: 'an empty list',
    pattern: { state: [{ 'anything-but': [] }] },
    message: /non-empty list/,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: 'a boolean',
    pattern: { state: [{ 'anything-but': true }] },
    message: /"anything-but" takes a string, a number/,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: 'null inside the list',
    pattern: { state: [{ 'anything-but': [null] }] },
    message: /only strings or only numbers/,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: 'an empty prefix',
    pattern: { state: [{ 'anything-but': { prefix: '' } }] },
    message: /takes no empty string/,
  },
  {
    section: 'Content filtering, Anything-but matching',
    name: 'an unsupported operator under anything-but',
    pattern: { state: [{ 'anything-but': { numeric: ['>', 1] } }] },
    message: /under "anything-but" takes exactly one of "prefix", "suffix", "equals-ignore-case", "wildcard"/,
  },
  {
    section: 'Comparison operators, Anything-but (begins with)',
    name: 'a prefix that is not a string',
    pattern: { Region: [{ 'anything-but': { prefix: 1 } }] },
    message: /takes a string or a non-empty list of strings/,
  },

  // --- wildcard ------------------------------------------------------------------------------------
  {
    section: 'Content filtering, Wildcard matching',
    name: 'consecutive wildcard characters',
    pattern: { FileName: [{ wildcard: 'dir/**.png' }] },
    message: /consecutive wildcard characters at position 4/,
  },
  {
    section: 'Content filtering, Wildcard matching',
    name: 'escaping a character other than * or \\',
    pattern: { FileName: [{ wildcard: 'dir\\/*.png' }] },
    message: /invalid escape at position 3/,
  },
  {
    section: 'Content filtering, Wildcard matching',
    name: 'a trailing backslash',
    pattern: { FileName: [{ wildcard: 'dir\\' }] },
    message: /invalid escape at position 3/,
  },
  {
    section: 'Comparison operators, Anything-but using a wildcard',
    name: 'consecutive wildcards under anything-but',
    pattern: { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '**'] } }] },
    message: /consecutive wildcard characters/,
  },

  // --- cidr ----------------------------------------------------------------------------------------
  {
    section: 'Content filtering, IP address matching',
    name: 'a cidr without a mask',
    pattern: { ip: [{ cidr: '10.0.0.0' }] },
    message: /"cidr" takes one "\/"/,
  },
  {
    section: 'Content filtering, IP address matching',
    name: 'a cidr that is no IP address',
    pattern: { ip: [{ cidr: '300.0.0.0/8' }] },
    message: /"300\.0\.0\.0" is not an IPv4 or IPv6 address/,
  },
  {
    section: 'Content filtering, IP address matching',
    name: 'mask bits that are not an integer',
    pattern: { ip: [{ cidr: '10.0.0.0/x' }] },
    message: /must be a non-negative integer/,
  },
  {
    section: 'Content filtering, IP address matching',
    name: 'an IPv4 mask of the full width (Event Ruler wants a plain string)',
    pattern: { ip: [{ cidr: '10.0.0.1/32' }] },
    message: /IPv4 mask bits must be below 32/,
  },
  {
    section: 'Content filtering, IP address matching',
    name: 'an IPv6 mask beyond the width',
    pattern: { ip: [{ cidr: '2001:db8::/129' }] },
    message: /IPv6 mask bits must be below 128/,
  },

  // --- $or -----------------------------------------------------------------------------------------
  {
    section: 'Content filtering, Or matching',
    name: '$or that is not an array',
    pattern: { $or: { Location: ['New York'] } },
    message: /"\$or" must hold an array/,
  },
  {
    section: 'Content filtering, Or matching',
    name: '$or with a single entry',
    pattern: { $or: [{ Location: ['New York'] }] },
    message: /at least 2 pattern objects/,
  },
  {
    section: 'Content filtering, Or matching',
    name: '$or with an entry that is not an object',
    pattern: { $or: [{ Location: ['New York'] }, ['Monday']] },
    message: /every entry of "\$or" must be a pattern object/,
  },
  {
    section: 'Content filtering, Or matching',
    name: '$or with an empty entry',
    pattern: { detail: { $or: [{ Location: ['New York'] }, {}] } },
    message: /"detail": empty objects are not allowed/,
  },
  {
    section: 'Content filtering, Or matching',
    name: 'operators written as fields inside $or',
    pattern: { $or: [{ numeric: ['>', 1] }, { prefix: ['abc'] }] },
    message: /"numeric" is a reserved operator name/,
  },
  {
    section: 'Content filtering, Or matching',
    name: 'a bad value deep inside a nested $or',
    pattern: { $or: [{ a: ['x'] }, { b: { $or: [{ c: [] }, { d: ['y'] }] } }] },
    message: /"b\.c": empty arrays are not allowed/,
  },
];

describe('EventBridge event patterns: validation', () => {
  it.each(invalidRows)('$section: rejects $name', ({ pattern, message }) => {
    expect(() => compileEventPattern(pattern)).toThrow(InvalidEventPatternError);
    expect(() => compileEventPattern(pattern)).toThrow(message);
  });

  it('accepts every operator the guide documents in one pattern', () => {
    const everything = {
      a: ['x', 1, true, null],
      b: [{ prefix: 'p' }, { prefix: { 'equals-ignore-case': 'p' } }],
      c: [{ suffix: 's' }, { suffix: { 'equals-ignore-case': 's' } }],
      d: [{ 'anything-but': 'x' }, { 'anything-but': [1, 2] }, { 'anything-but': { prefix: 'p' } }],
      e: [{ 'anything-but': { suffix: 's' } }, { 'anything-but': { 'equals-ignore-case': ['x', 'y'] } }],
      f: [{ 'anything-but': { wildcard: '*/lib/*' } }, { numeric: ['>=', -5e9, '<=', 5e9] }],
      g: [{ exists: true }, { 'equals-ignore-case': 'x' }, { wildcard: 'a*b' }, { cidr: '::/0' }],
      $or: [{ h: ['1'] }, { i: { $or: [{ j: ['2'] }, { k: ['3'] }] } }],
    };
    expect(() => compileEventPattern(everything)).not.toThrow();
  });

  it('names the error class so callers can map it to InvalidEventPatternException', () => {
    const error = captureError(() => compileEventPattern({ source: 'aws.ec2' }));
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect(error).toBeInstanceOf(Error);
    expect(error?.name).toBe('InvalidEventPatternError');
  });
});

function captureError(run: () => unknown): Error | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : undefined;
  }
}
