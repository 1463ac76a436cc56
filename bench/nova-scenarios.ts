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
 * gunicorn, one process and one per core; a connection per request against sync workers then
 * gthread, keep-alive against gthread. gunicorn's sync worker closes every connection whatever the
 * client asks, so a keep-alive row against it would be a connection-per-request row with the
 * client's resets counted as errors.
 */
export const NOVA_SCENARIOS: readonly Scenario[] = ([1, 'cores'] as const).flatMap((processes) => [
  novaRow('nova-sync', 'close', processes),
  novaRow('nova-gthread', 'close', processes),
  novaRow('nova-gthread', 'keep-alive', processes),
]);
