import { STORED_PASSWORD } from './fixtures';
import { guestGet, type Scenario, type Side } from './scenarios';

/** The router against Nova's own handler: at least as fast in every row. */
const MIN_RATIO_VS_NOVA = 1;
const P99_RATIO = 1.2;

function novaRow(worker: Side & `nova-${string}`, connection: 'keep-alive' | 'close', processes: 1 | 'cores'): Scenario {
  const onePerCore = processes === 'cores';
  return {
    id: `nova-${worker.slice(5)}-${connection}-${onePerCore ? 'cores' : 'one'}`,
    title:
      `guest GET vs Nova's handler (${worker.slice(5)} workers), ` +
      `${connection === 'close' ? 'a connection per request' : 'keep-alive'}, ${onePerCore ? 'a process per core' : 'one process'}`,
    backend: 'memory',
    subject: { side: 'router', processes },
    baseline: { side: worker, processes },
    connection,
    pinned: !onePerCore,
    peer: 'nova',
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
    minThroughputRatio: MIN_RATIO_VS_NOVA,
    maxP99Ratio: P99_RATIO,
  };
}

/**
 * The optional Nova peer (`--peer nova`): the guest GET against Nova's metadata handler under
 * gunicorn, sync workers then gthread, keep-alive and a connection per request, one process and one
 * per core. gunicorn's sync worker closes every connection whatever the client asks, so its
 * keep-alive rows are connection-per-request on Nova's side.
 */
export const NOVA_SCENARIOS: readonly Scenario[] = (['keep-alive', 'close'] as const).flatMap((connection) =>
  ([1, 'cores'] as const).flatMap((processes) =>
    (['nova-sync', 'nova-gthread'] as const).map((worker) => novaRow(worker, connection, processes)),
  ),
);
