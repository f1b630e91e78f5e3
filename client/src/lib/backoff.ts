/** Reconnect delays: exponential growth with "full jitter" so a restarted server is not stampeded. */

export interface BackoffPolicy {
  /** Ceiling of the first delay, milliseconds. */
  initialMs: number;
  /** Largest ceiling, milliseconds. */
  maxMs: number;
}

/** 0.5 s doubling to 30 s. */
export const RECONNECT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry): uniform in
 * `[0, min(maxMs, initialMs * 2^attempt))`, the "full jitter" of AWS's backoff study.
 *
 * @param random a source of numbers in [0, 1), `Math.random` by default
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = RECONNECT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt)) : 0;
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(exponent, 52));
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.floor(draw * ceiling);
}
