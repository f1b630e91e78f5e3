/**
 * The built client as the server serves it: the app shell for client routes, the download service
 * worker's script at the root under a policy that lets the page run it and frame its downloads, and
 * a clear 404 (never the shell) for a download no worker answered.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server.js';
import { testConfig } from './test-config.js';

let server: RunningServer;
let dir: string;
const SHELL = '<!doctype html><title>Parley</title><div id="app"></div>';
const WORKER = "self.addEventListener('fetch', () => {});";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-static-'));
  await writeFile(join(dir, 'index.html'), SHELL);
  await writeFile(join(dir, 'download-sw.js'), WORKER);
  server = await startServer(testConfig({ staticDir: dir }));
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const get = (path: string, accept = 'text/html') => fetch(new URL(path, server.url), { headers: { accept } });

/** The policy's directives by name. */
function directives(csp: string | null): Map<string, string[]> {
  return new Map(
    (csp ?? '')
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('the built client', () => {
  it('answers a client route with the app shell', async () => {
    const res = await get('/chat/someone');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(SHELL);
  });

  it('serves the download worker at the root as JavaScript, allowed to run and to frame downloads', async () => {
    const res = await get('/download-sw.js', '*/*');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript|^application\/javascript/);
    expect(await res.text()).toBe(WORKER);
    // Workers fall back to script-src, then default-src; frames to child-src, then default-src.
    const csp = directives((await get('/')).headers.get('content-security-policy'));
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('script-src')).toContain("'self'");
    for (const name of ['worker-src', 'child-src', 'frame-src']) expect(csp.has(name)).toBe(false);
  });

  it('answers a download that reached the server (no worker) with a JSON 404, not the shell', async () => {
    for (const path of ['/download/0123456789abcdef0123', '/download/', '/download']) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });
});
