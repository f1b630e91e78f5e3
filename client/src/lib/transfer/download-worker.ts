/**
 * Streamed downloads in this browser: the download service worker (`download-sw.ts`, built to
 * `/download-sw.js`), registered on first use with the scope `/download/` so it sees nothing but the
 * downloads, and a hidden iframe that makes the browser ask it for one. Under the Vite dev server
 * there is no `/download-sw.js` (only a build makes it): registering fails, and files go to memory.
 */
import { StreamDownloadSink, type DownloadFile, type DownloadWorker } from './download-sink.js';
import type { DownloadWorkerMessage } from './download-stream.js';

const WORKER_URL = '/download-sw.js';
const SCOPE = '/download/';
/** How long registering may take, the worker's script fetched, installed and activated. */
export const REGISTRATION_TIMEOUT_MS = 15_000;

/**
 * Whether this page may stream downloads through a service worker: a secure context with service
 * workers (not Firefox's private windows, nor a page on plain http other than localhost).
 */
export function canStreamDownloads(): boolean {
  return typeof window === 'object' && window.isSecureContext && 'serviceWorker' in navigator;
}

/** The worker's registration, kept from the first download that needed it until one fails to start. */
let registration: Promise<ServiceWorkerRegistration> | null = null;

/**
 * Starts a streamed download of `file` (call it from the click on "Accept"). Rejects when the worker
 * cannot be registered in time, or with an `unavailable` TransferError when it does not take the
 * download; the next call then registers again rather than reuse what failed.
 */
export async function openStreamDownload(file: DownloadFile): Promise<StreamDownloadSink> {
  const registering = (registration ??= register());
  try {
    return await StreamDownloadSink.open(file, activeWorker(await registering));
  } catch (error) {
    if (registration === registering) registration = null;
    throw error;
  }
}

/**
 * The download worker for one download: the one active now, and that one for all of the download. A
 * newer version that takes over meanwhile knows nothing of it; pinging that one would let the old
 * one, which streams the file, be stopped as idle.
 */
function activeWorker(registered: ServiceWorkerRegistration): DownloadWorker {
  const worker = registered.active;
  if (!worker) throw new Error('the download worker is not active');
  return {
    post(message: DownloadWorkerMessage, transfer: Transferable[] = []) {
      worker.postMessage(message, transfer);
    },
    start: startInFrame,
  };
}

/**
 * Registers the worker and waits for it to activate, all within `REGISTRATION_TIMEOUT_MS`: a fetch of
 * its script that never ends fails this download, and the next one registers again.
 */
function register(): Promise<ServiceWorkerRegistration> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the download worker was not ready in time')),
      REGISTRATION_TIMEOUT_MS,
    );
    registerAndActivate()
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

async function registerAndActivate(): Promise<ServiceWorkerRegistration> {
  const registered = await navigator.serviceWorker.register(WORKER_URL, { scope: SCOPE });
  // Not `navigator.serviceWorker.ready`: it waits for a worker controlling this page, which one
  // scoped to /download/ never does. The worker's own state says when it can serve.
  const worker = registered.installing ?? registered.waiting ?? registered.active;
  if (!worker) throw new Error('the download worker did not install');
  await activated(worker);
  return registered;
}

function activated(worker: ServiceWorker): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (worker.state === 'activated') done();
      else if (worker.state === 'redundant') done(new Error('the download worker failed to install'));
    };
    const done = (error?: Error) => {
      worker.removeEventListener('statechange', check);
      if (error) reject(error);
      else resolve();
    };
    worker.addEventListener('statechange', check);
    check();
  });
}

/** Navigates a hidden iframe to the download: the browser asks the worker and saves what it answers. */
function startInFrame(id: string): () => void {
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.src = `${SCOPE}${encodeURIComponent(id)}`;
  document.body.append(frame);
  return () => frame.remove();
}
