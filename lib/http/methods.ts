import type { Request, Response } from 'express';
import type { RequestState } from './answers';
import { passwordError } from '../core/errors';
import type { PasswordService } from '../core/service';

/** The action each HTTP method asks for on one route, and its `Allow` header. */
interface MethodTable<A extends string> {
  readonly actions: Readonly<Record<string, A>>;
  readonly allow: string;
}

/** Makes a method table; `Allow` lists the methods in the order given. */
export function methodTable<A extends string>(actions: Readonly<Record<string, A>>): MethodTable<A> {
  return { actions, allow: Object.keys(actions).join(', ') };
}

/** The action `req.method` asks for; any other method is 405 `METHOD_NOT_ALLOWED` with `Allow`. */
export function actionOf<A extends string>(req: Request, res: Response, table: MethodTable<A>): A {
  const action = Object.hasOwn(table.actions, req.method) ? table.actions[req.method] : undefined;
  if (action !== undefined) return action;
  res.setHeader('Allow', table.allow);
  throw passwordError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${table.allow}.`);
}

/**
 * Reads an instance's password for GET (with a `password.read` event when there is one) or HEAD
 * (the same answer's headers, no value returned, so no event).
 */
export function readPassword(
  service: PasswordService,
  req: Request,
  id: string,
  request: RequestState,
): Promise<string | undefined> {
  return req.method === 'HEAD' ? service.peek(id, request) : service.get(id, request);
}
