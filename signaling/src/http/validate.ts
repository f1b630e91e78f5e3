/** Request-body validation at the edge: a zod schema in, typed data or a 400 naming the field out. */
import type { z } from 'zod';
import { ServerError } from '../errors.js';

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ServerError('invalid_body', 'The body must be a JSON object');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || undefined;
  throw new ServerError('invalid_body', issue?.message ?? 'Invalid body', field ? { field } : {});
}
