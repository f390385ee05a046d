import { readVariantStats } from '../../../serving/variant-stats.ts';
import type { CanaryStatsReader } from '../ports.ts';

/** What the model server measured for a version of an endpoint (its per-variant statistics items). */
export function createCanaryStats(deploymentsTableName: string): CanaryStatsReader {
  return {
    async read(endpointName, version, sinceMs) {
      const read = await readVariantStats(endpointName, version, sinceMs, {
        tableName: deploymentsTableName,
      });
      return { invocations: read.invocations, errors: read.errors, p99LatencyMs: read.p99LatencyMs };
    },
  };
}
