/**
 * Vitest global setup: one real redis-server for the whole run, its URL available to every test
 * file as `inject('redisUrl')`.
 *
 * Test files run in parallel against this one Redis, so a test must never FLUSHALL/FLUSHDB or
 * assume an empty keyspace: give every user, session and channel a unique, random name
 * (e.g. `alice-${randomUUID()}`) and assert only on what the test itself created. A test that needs
 * to stop or restart Redis starts its own with `startRedisServer()` instead.
 */
import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:<port>` of the shared test Redis. */
    redisUrl: string;
  }
}

/** Starts the shared Redis and returns the teardown that stops it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await startRedisServer();
  project.provide('redisUrl', redis.url);
  return async () => {
    await redis.stop();
  };
}
