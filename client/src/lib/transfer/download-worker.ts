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
/** How long the worker may take to install and activate. */
const ACTIVATION_TIMEOUT_MS = 15_000;

/**
 * Whether this page may stream downloads through a service worker: a secure context with service
 * workers (not Firefox's private windows, nor a page on plain http other than localhost).
 */
export function canStreamDownloads(): boolean {
  return typeof window === 'object' && window.isSecureContext && 'serviceWorker' in navigator;
}

/**
 * Starts a streamed download of `file` (call it from the click on "Accept"). Rejects with an
 * `unavailable` TransferError when the worker cannot be registered or does not take the download.
 */
export async function openStreamDownload(file: DownloadFile): Promise<StreamDownloadSink> {
  return StreamDownloadSink.open(file, await downloadWorker());
}

let registration: Promise<ServiceWorkerRegistration> | null = null;

/**
 * The download worker for one download: the one active now, registered on first use (again after a
 * failure), and that one for all of the download. A newer version that takes over meanwhile knows
 * nothing of it; pinging that one would let the old one, which streams the file, be stopped as idle.
 */
async function downloadWorker(): Promise<DownloadWorker> {
  registration ??= register();
  const registered = await registration.catch((error: unknown) => {
    registration = null;
    throw error;
  });
  const worker = registered.active;
  if (!worker) throw new Error('the download worker is not active');
  return {
    post(message: DownloadWorkerMessage, transfer: Transferable[] = []) {
      worker.postMessage(message, transfer);
    },
    start: startInFrame,
  };
}

async function register(): Promise<ServiceWorkerRegistration> {
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
    const timer = setTimeout(
      () => done(new Error('the download worker did not activate')),
      ACTIVATION_TIMEOUT_MS,
    );
    const check = () => {
      if (worker.state === 'activated') done();
      else if (worker.state === 'redundant') done(new Error('the download worker failed to install'));
    };
    const done = (error?: Error) => {
      clearTimeout(timer);
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
