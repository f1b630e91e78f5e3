/**
 * Turns files the user picked or dropped into what an offer needs: an id, a name that fits the
 * protocol, a MIME type it accepts, and the SHA-256, hashed before offering (with progress) so the
 * receiver can verify every byte.
 */
import { FILE_NAME_MAX, FILE_TYPE_MAX, OFFER_FILES_MAX } from '../../../../shared/transfer-protocol.js';
import { offerFileName } from './file-name.js';
import { BlobSource } from './file-source.js';
import { hashSource } from './hasher.js';
import type { OutgoingFile } from './transfer-sender.js';

export interface PrepareFilesOptions {
  /** Bytes hashed so far over all the files, out of their total. */
  onProgress?: (hashed: number, total: number) => void;
  signal?: AbortSignal;
  newId?: () => string;
}

/** A `File`, or any Blob with a name. */
export type PickedFile = Blob & { readonly name: string };

/**
 * Hashes and describes up to `OFFER_FILES_MAX` files for one offer (more: split them into several
 * offers). Reads each file once, one block at a time. Rejects with an `aborted` or `read_failed`
 * TransferError.
 */
export async function prepareFiles(
  files: readonly PickedFile[],
  options: PrepareFilesOptions = {},
): Promise<OutgoingFile[]> {
  if (files.length === 0 || files.length > OFFER_FILES_MAX)
    throw new RangeError(`an offer holds 1 to ${OFFER_FILES_MAX} files`);
  const newId = options.newId ?? (() => crypto.randomUUID());
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const prepared: OutgoingFile[] = [];
  let before = 0;
  for (const file of files) {
    const source = new BlobSource(file);
    const sha256 = await hashSource(source, {
      signal: options.signal,
      onProgress: (hashed) => options.onProgress?.(before + hashed, total),
    });
    before += file.size;
    prepared.push({
      fileId: newId(),
      name: offerFileName(file.name, FILE_NAME_MAX),
      size: file.size,
      type: offerType(file.type),
      sha256,
      source,
    });
  }
  return prepared;
}

/** The browser's MIME type when the protocol takes it (printable ASCII, bounded), else none. */
function offerType(type: string): string {
  return type.length <= FILE_TYPE_MAX && /^[\x20-\x7e]*$/.test(type) ? type : '';
}
