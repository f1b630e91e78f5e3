/**
 * Test double: a signaling server for several meshes. Each device gets a {@link FakeGateway}; the
 * signal and relay frames it sends reach the target connection(s) with `from` set by the "server",
 * in order, on a later microtask (never re-entrantly). Relay frames can be tapped, altered or
 * dropped on the way; frames to a connection that is not there get `peer_offline`, like the real
 * server. Every device counts as a friend of every other: the meshes' `hello` decides.
 */
import type { ClientFrame, ConnectionRef, RelayPayload } from '../../../../../shared/protocol.js';
import { FakeGateway } from './fakes.js';

interface Device {
  userId: string;
  connectionId: string;
  gateway: FakeGateway;
}

export class FakeSignalingServer {
  readonly #devices: Device[] = [];
  /** Every relay payload routed, as the server saw it. */
  readonly relayed: Array<{ from: ConnectionRef; to: ConnectionRef; data: RelayPayload }> = [];
  /** Changes a relay payload on its way; null drops it. */
  alterRelay: ((data: RelayPayload, from: ConnectionRef) => RelayPayload | null) | undefined;

  /** A connection of `userId`: its gateway, wired to this server. */
  device(userId: string, connectionId: string): FakeGateway {
    const gateway = new FakeGateway();
    const device: Device = { userId, connectionId, gateway };
    this.#devices.push(device);
    gateway.onSend = (frame) => queueMicrotask(() => this.#route(device, frame));
    return gateway;
  }

  /** The connection is gone (tab closed): frames to it are refused from now on. */
  leave(gateway: FakeGateway): void {
    const index = this.#devices.findIndex((device) => device.gateway === gateway);
    if (index >= 0) this.#devices.splice(index, 1);
    gateway.online = false;
  }

  /** The connection reconnected under a new id (the test then sends the mesh its `hello`). */
  reconnect(gateway: FakeGateway, connectionId: string): void {
    const device = this.#devices.find((d) => d.gateway === gateway);
    if (device) device.connectionId = connectionId;
  }

  /** Relay payloads of one kind that went through. */
  relayedOf<K extends RelayPayload['kind']>(kind: K): Array<Extract<RelayPayload, { kind: K }>> {
    return this.relayed
      .map((entry) => entry.data)
      .filter((data): data is Extract<RelayPayload, { kind: K }> => data.kind === kind);
  }

  #route(sender: Device, frame: ClientFrame): void {
    const from = { userId: sender.userId, connectionId: sender.connectionId };
    if (frame.type === 'signal') {
      const targets = this.#devices.filter(
        (device) =>
          device.userId === frame.to.userId &&
          (frame.to.connectionId === undefined || device.connectionId === frame.to.connectionId),
      );
      if (targets.length === 0) return sender.gateway.errorFrame('peer_offline', 'signal');
      for (const target of targets) target.gateway.signal(from.userId, from.connectionId, frame.data);
    } else if (frame.type === 'relay') {
      const target = this.#devices.find(
        (device) => device.userId === frame.to.userId && device.connectionId === frame.to.connectionId,
      );
      if (!target) return sender.gateway.errorFrame('peer_offline', 'relay', frame.to);
      const data = this.alterRelay ? this.alterRelay(frame.data, from) : frame.data;
      if (!data) return;
      this.relayed.push({ from, to: frame.to, data });
      target.gateway.relay(from.userId, from.connectionId, data);
    }
  }
}
