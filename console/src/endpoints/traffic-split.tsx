import type { EndpointWire } from '../api/wire.ts';

/** The live split: the primary's share and the canary's, as a bar. */
export function TrafficSplit({ traffic }: { traffic: EndpointWire['traffic'] }) {
  if (!traffic.primary) return <span class="muted">nothing deployed</span>;
  const canary = traffic.canary ? traffic.canary_weight : 0;
  return (
    <div class="split-bar" data-testid="traffic-split" title={`revision ${traffic.revision}`}>
      <div style={{ width: `${100 - canary}%`, background: '#2563eb' }}>
        v{traffic.primary.version} {100 - canary}%
      </div>
      {traffic.canary && canary > 0 ? (
        <div style={{ width: `${canary}%`, background: '#f59e0b', minWidth: '64px' }}>
          v{traffic.canary.version} {canary}%
        </div>
      ) : null}
    </div>
  );
}
