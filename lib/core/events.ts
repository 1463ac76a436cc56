import { isThenable, type Diagnostics } from './logging';
import { passwordError } from './errors';
import type { ActionContext, EventHandler, PasswordEvent } from '../types';

/** An event as a service's callers describe it; the reporter adds the context and the time. */
export type EventFields = Omit<PasswordEvent, 'at' | 'principalId' | 'requestId'>;

/** Sends an event, with the context and the time, to the host's `onEvent`. */
export type ReportEvent = (fields: EventFields, context?: ActionContext) => void;

/** Whatever can report events: both services, for `Access` and the routers. */
export interface EventReporter {
  report(fields: EventFields, context?: ActionContext): void;
}

/**
 * Makes the reporter of a service: each event gets the context and the time and goes to `onEvent`.
 * A throwing or rejecting handler is logged, never passed on.
 */
export function eventReporter(onEvent: EventHandler | undefined, log: Diagnostics): ReportEvent {
  return (fields, context) => {
    if (!onEvent) return;
    const event: PasswordEvent = {
      ...fields,
      ...(context?.principalId !== undefined && { principalId: context.principalId }),
      ...(context?.requestId !== undefined && { requestId: context.requestId }),
      at: new Date(),
    };
    const fail = (error: unknown) => log.error(`onEvent failed for a ${event.type} event; the request went on.`, error);
    try {
      const result = onEvent(event);
      if (isThenable(result)) Promise.resolve(result).catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

/**
 * Runs a store call for `id`; resolves its result and how long it took, in milliseconds. A failure
 * is logged (name, code and message only), reported as `store.unavailable` and rejected as 503
 * `STORE_UNAVAILABLE`.
 */
export async function callStore<T>(
  id: string,
  context: ActionContext | undefined,
  operation: () => Promise<T>,
  log: Diagnostics,
  report: ReportEvent,
): Promise<[result: T, durationMs: number]> {
  const started = performance.now();
  try {
    const result = await operation();
    return [result, performance.now() - started];
  } catch (cause) {
    const durationMs = performance.now() - started;
    const reason = cause instanceof Error ? cause.message : 'the store rejected without an Error';
    log.error(`the password store failed for instance ${JSON.stringify(id)}.`, cause);
    report({ type: 'store.unavailable', instanceId: id, reason, durationMs }, context);
    throw passwordError('STORE_UNAVAILABLE', 'The password store is unavailable; try again shortly.');
  }
}
