/**
 * TransfersState and the server relay's file size cap: while the friend is reached over the server
 * relay only, files larger than it carries are refused with a message that says why; the others
 * are offered. Over a data channel the same files all go.
 */
import { describe, expect, it } from 'vitest';
import { RELAY_FILE_MAX_BYTES } from '../../../../shared/transfer-protocol.js';
import { Emitter } from '../emitter.js';
import type { PeerNetwork, PeerNetworkEvents, PeerPath } from '../peer/peer-network.js';
import type { ChunkChannel } from './chunk-channel.js';
import { TransferError } from './transfer-error.js';
import { overRelayCapMessage } from './transfer-format.js';
import { TransfersState } from './transfers.svelte.js';

/** One open link to the friend's connection `b1`, over the path given; no file channel yet. */
class OneLinkNetwork implements PeerNetwork {
  readonly events = new Emitter<PeerNetworkEvents>();
  constructor(readonly currentPath: PeerPath) {}
  connect(): void {}
  send(): number {
    return 0;
  }
  sendTo(): boolean {
    return false;
  }
  fileChannel(): ChunkChannel | null {
    return null;
  }
  instanceOf(_friendId: string, connectionId: string): string | null {
    return connectionId;
  }
  openLinks(): string[] {
    return ['b1'];
  }
  path(): PeerPath {
    return this.currentPath;
  }
  on<K extends keyof PeerNetworkEvents>(event: K, handler: (e: PeerNetworkEvents[K]) => void): () => void {
    return this.events.on(event, handler);
  }
  close(): void {}
}

const small = new File([new Uint8Array(1000)], 'notes.txt');
const atCap = new File([new Uint8Array(RELAY_FILE_MAX_BYTES)], 'exactly.bin');
const big = new File([new Uint8Array(RELAY_FILE_MAX_BYTES + 1)], 'big.iso');

const offered = (state: TransfersState) => state.items.flatMap((item) => item.files.map((f) => f.file.name));

describe('TransfersState and the server relay cap', () => {
  it('refuses files over the cap while the friend is reached over the server relay, offers the rest', async () => {
    const state = new TransfersState({ peers: new OneLinkNetwork('server') });
    const sending = state.send('bob', [small, big, atCap]);
    await expect(sending).rejects.toThrow(TransferError);
    await expect(sending).rejects.toMatchObject({
      code: 'too_large',
      message: overRelayCapMessage(['big.iso']),
    });
    expect(offered(state)).toEqual(['notes.txt', 'exactly.bin']);

    const alone = state.send('bob', [big, big]);
    await expect(alone).rejects.toMatchObject({ message: overRelayCapMessage(['big.iso', 'big.iso']) });
    expect(offered(state)).toEqual(['notes.txt', 'exactly.bin']);
    state.dispose();
  });

  it('offers the same files when a data channel reaches the friend', async () => {
    for (const path of ['direct', 'turn'] as const) {
      const state = new TransfersState({ peers: new OneLinkNetwork(path) });
      await state.send('bob', [small, big]);
      expect(offered(state)).toEqual(['notes.txt', 'big.iso']);
      state.dispose();
    }
  });
});
