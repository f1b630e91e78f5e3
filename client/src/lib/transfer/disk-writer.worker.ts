/** The disk writer's worker: hashes and writes the files the page receives (`disk-writer.ts`). */
import { DiskWriterHost, type DiskWriterReply, type DiskWriterRequest } from './disk-writer.js';

const scope = globalThis as unknown as {
  postMessage(message: DiskWriterReply): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<DiskWriterRequest>) => void): void;
};
const host = new DiskWriterHost((reply) => scope.postMessage(reply));
scope.addEventListener('message', (event) => host.handle(event.data));
