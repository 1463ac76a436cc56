import { passwordError, type PasswordError } from './errors';
import { callHost } from './host-call';
import type { Diagnostics } from './logging';
import type { ActionContext, EventHandler, PasswordEvent } from '../types';

/** An event as a service describes it; the context and the time are added when it is sent. */
export type EventFields = Omit<PasswordEvent, 'at' | 'principalId' | 'requestId'>;

/** Sends an event, with the context and the time, to the host's `onEvent`. */
export type EmitEvent = (fields: EventFields, context?: ActionContext) => void;

/** What a router refused before asking the service: who asked, and for which instance if known. */
export interface RefusalContext extends ActionContext {
  readonly instanceId?: string;
}

/** Where a router reports what it refused before asking its service: both services. */
export interface RefusalReporter {
  refused(type: 'access.denied' | 'password.rejected', reason: string, context: RefusalContext): void;
}

/**
 * The emitter of a service: each event gets the context and the time and goes to `onEvent`. A
 * throwing or rejecting handler is logged, never passed on.
 */
export function eventEmitter(onEvent: EventHandler | undefined, log: Diagnostics): EmitEvent {
  return (fields, context) => {
    if (!onEvent) return;
    const event: PasswordEvent = {
      ...fields,
      ...(context?.principalId !== undefined && { principalId: context.principalId }),
      ...(context?.requestId !== undefined && { requestId: context.requestId }),
      at: new Date(),
    };
    void callHost(
      () => onEvent(event),
      (error) => log.error(`onEvent failed for a ${event.type} event; the request went on.`, error),
    );
  };
}

/** The event for a request a router refused: `access.denied` or `password.rejected`, `reason` its code. */
export function refusalEvent(type: 'access.denied' | 'password.rejected', reason: string, context: RefusalContext): EventFields {
  return { type, reason, ...(context.instanceId !== undefined && { instanceId: context.instanceId }) };
}

/**
 * Runs a store call for `id`; resolves its result and how long it took, in milliseconds (0 when not
 * `timed`: nobody reads the events). A failure is logged (name, code and message only), emitted as
 * `store.unavailable` and rejected as 503 `STORE_UNAVAILABLE`.
 */
export async function callStore<T>(
  id: string,
  context: ActionContext | undefined,
  operation: () => Promise<T>,
  log: Diagnostics,
  emit: EmitEvent,
  timed = true,
): Promise<[result: T, durationMs: number]> {
  const started = timed ? performance.now() : 0;
  try {
    const result = await operation();
    return [result, timed ? performance.now() - started : 0];
  } catch (cause) {
    throw storeUnavailable(id, context, cause, timed ? performance.now() - started : 0, log, emit);
  }
}

/** Logs and reports a store failure (a call or a wait); returns the 503 to answer with. */
export function storeUnavailable(
  id: string,
  context: ActionContext | undefined,
  cause: unknown,
  durationMs: number,
  log: Diagnostics,
  emit: EmitEvent,
): PasswordError {
  const reason = cause instanceof Error ? cause.message : 'the store rejected without an Error';
  log.error(`the password store failed for instance ${JSON.stringify(id)}.`, cause);
  emit({ type: 'store.unavailable', instanceId: id, reason, durationMs }, context);
  return passwordError('STORE_UNAVAILABLE', 'The password store is unavailable; try again shortly.');
}
