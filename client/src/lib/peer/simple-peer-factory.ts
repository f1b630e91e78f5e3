/**
 * The browser's {@link PeerFactory}: simple-peer (lite: data channels only) with trickle ICE.
 *
 * simple-peer's `connect` waits for one `getStats()` after the data channel opens (measured 0.3-6 ms
 * in Chromium 156); the channel's own `open` event is listened to as well and whichever comes first
 * counts, so the first message goes out as early as the browser allows.
 *
 * When either channel closes (the other side went away, or the connection was closed under it),
 * simple-peer destroys itself but its own `close` event can get lost in that teardown (its
 * channel-close path calls its destroy directly, which then swallows the stream's own destroy and
 * never emits `close`), leaving a dead link that looks open. So the channels' own `close` events
 * report the close too.
 *
 * The library is loaded with a dynamic import: the first dial does not wait for it (the mesh loads it
 * when created), the sign-in page does not carry it, and Node (unit tests) never evaluates it (its
 * Node build needs a native module).
 */
import type { default as SimplePeer, SimplePeerEvents } from '@thaunknown/simple-peer/lite.js';
import type { PeerSignal } from '../../../../shared/protocol.js';
import type { StatsEntry } from './link-path.js';
import {
  FILE_CHANNEL_ID,
  type FileChannelHandle,
  type PeerFactory,
  type PeerHandle,
} from './peer-factory.js';

/** The file channel's `bufferedAmountLowThreshold` (the transfer's low-water mark, 1 MiB). */
const FILE_CHANNEL_LOW_WATER = 1024 * 1024;

type SimplePeerClass = typeof SimplePeer;

let loaded: Promise<PeerFactory | null> | undefined;

/**
 * Loads simple-peer once; resolves with null where there is no WebRTC (Node, old browsers). A failed
 * load (e.g. the chunk could not be fetched) is retried on the next call.
 */
export function loadSimplePeerFactory(): Promise<PeerFactory | null> {
  if (typeof globalThis.RTCPeerConnection !== 'function') return Promise.resolve(null);
  loaded ??= import('@thaunknown/simple-peer/lite.js').then(
    (module) => simplePeerFactory(module.default),
    (error: unknown) => {
      loaded = undefined;
      throw error;
    },
  );
  return loaded;
}

/** Wraps a simple-peer class as a {@link PeerFactory}. */
export function simplePeerFactory(Peer: SimplePeerClass): PeerFactory {
  return (options, events) => {
    const peer = new Peer({ initiator: options.initiator, config: options.config, objectMode: true });
    let live = true;
    let openedOnce = false;
    let chatOpen = false;
    let failure: Error | undefined;
    const fileChannel = createFileChannel(peer._pc);

    // The link counts as open when both channels are: a transfer never finds its channel connecting.
    const opened = () => {
      if (!live || openedOnce || !chatOpen) return;
      if (fileChannel && fileChannel.readyState !== 'open') return;
      openedOnce = true;
      events.open();
    };
    const chatOpened = () => {
      chatOpen = true;
      opened();
    };
    const onFileMessage = (event: MessageEvent) => {
      if (live) events.fileData(event.data);
    };
    const closed = () => {
      if (!live) return;
      detach();
      events.close(failure);
    };
    if (fileChannel) {
      fileChannel.addEventListener('open', opened, { once: true });
      fileChannel.addEventListener('message', onFileMessage);
      fileChannel.addEventListener('close', closed, { once: true });
    }
    const listeners: { [E in keyof SimplePeerEvents]: SimplePeerEvents[E] } = {
      signal: (data) => {
        if (live) events.signal(data as PeerSignal);
      },
      connect: chatOpened,
      data: (data) => {
        if (live) events.data(data);
      },
      iceStateChange: (state) => {
        if (live) events.iceState(state);
      },
      error: (error) => {
        failure = error;
      },
      close: closed,
    };
    const on = <E extends keyof SimplePeerEvents>(event: E) => peer.on(event, listeners[event]);
    (Object.keys(listeners) as Array<keyof SimplePeerEvents>).forEach(on);

    const channelOpen = (channel: RTCDataChannel) => {
      channel.addEventListener('close', closed, { once: true });
      if (channel.readyState === 'open') chatOpened();
      else channel.addEventListener('open', chatOpened, { once: true });
    };
    const onDataChannel = (event: RTCDataChannelEvent) => channelOpen(event.channel);
    if (peer._channel) channelOpen(peer._channel);
    else peer._pc?.addEventListener('datachannel', onDataChannel, { once: true });

    function detach(): void {
      live = false;
      for (const event of Object.keys(listeners) as Array<keyof SimplePeerEvents>) {
        if (event !== 'error') peer.off(event, listeners[event]);
      }
      // simple-peer emits `error` while tearing down; an emitter without an error listener throws.
    }

    const handle: PeerHandle = {
      signal: (signal) => peer.signal(signal),
      send: (data) => peer.send(data),
      get bufferedAmount() {
        return peer.bufferSize;
      },
      files: fileChannel ? fileChannelHandle(fileChannel) : null,
      stats: () =>
        new Promise<StatsEntry[]>((resolve, reject) => {
          if (peer.destroyed || !peer._pc) return reject(new Error('peer destroyed'));
          peer.getStats((error, reports) => (error ? reject(error) : resolve(reports)));
        }),
      setConfiguration: (config) => {
        const pc = peer._pc;
        if (!live || !pc) return;
        // Keep what cannot change (certificates, bundle policy); only ICE servers and policy are new.
        pc.setConfiguration({ ...pc.getConfiguration(), ...config });
      },
      destroy: () => {
        if (!live) return;
        detach();
        peer._pc?.removeEventListener('datachannel', onDataChannel);
        fileChannel?.removeEventListener('message', onFileMessage);
        fileChannel?.close();
        peer.destroy();
      },
    };
    return handle;
  };
}

/**
 * The file channel, created on both sides right after the connection exists (negotiated, so it is
 * never announced and simple-peer's non-initiator does not take it for its own channel).
 */
function createFileChannel(pc: RTCPeerConnection | null): RTCDataChannel | null {
  if (!pc) return null;
  const channel = pc.createDataChannel('files', { negotiated: true, id: FILE_CHANNEL_ID, ordered: true });
  channel.binaryType = 'arraybuffer';
  channel.bufferedAmountLowThreshold = FILE_CHANNEL_LOW_WATER;
  return channel;
}

function fileChannelHandle(channel: RTCDataChannel): FileChannelHandle {
  return {
    send: (data) => {
      if (typeof data === 'string') channel.send(data);
      else channel.send(data);
    },
    get bufferedAmount() {
      return channel.bufferedAmount;
    },
    onDrain: (listener) => {
      channel.addEventListener('bufferedamountlow', listener);
      return () => channel.removeEventListener('bufferedamountlow', listener);
    },
  };
}
