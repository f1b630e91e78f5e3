import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../logger.js';
import { StoreUnavailableError } from '../store/store.js';
import { errorHandler, notFound } from './errors.js';

describe('errorHandler', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.get('/boom', () => {
      throw new Error('secret internals at /srv/app.js:42');
    });
    app.get('/async-boom', async () => {
      await Promise.resolve();
      throw new TypeError('x is undefined');
    });
    app.get('/store-down', async () => {
      throw new StoreUnavailableError();
    });
    app.use(notFound);
    app.use(errorHandler(silentLogger));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('answers unexpected failures with 500 and no stack or internals', async () => {
    for (const path of ['/boom', '/async-boom']) {
      const res = await fetch(base + path);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: 'Internal error' } });
      expect(text).not.toMatch(/secret|\.js|undefined|at /);
    }
  });

  it('answers an unreachable store with 503', async () => {
    const res = await fetch(`${base}/store-down`);
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('store_unavailable');
  });

  it('answers unknown routes with 404 JSON', async () => {
    const res = await fetch(`${base}/nowhere`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  });
});
