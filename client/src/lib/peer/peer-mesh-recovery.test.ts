/**
 * Links closing (bye, offline, unfriended, sign-out), dialing again, and our own signaling
 * connection reconnecting. The rest of the mesh: `peer-mesh.test.ts`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PEER_PROTOCOL_VERSION } from '../../../../shared/peer-protocol.js';
import { broadcastKnock, byeTo, ME, setupMesh } from './test/mesh-harness.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('cleanup', () => {
  it('closes a link on bye, without answering bye', () => {
    const { mesh, gateway, events, openFrom } = setupMesh();
    const peer = openFrom('b1', 'X1');
    gateway.take();
    gateway.signal('bob', 'b1', { kind: 'bye', link: 'other' });
    expect(peer.destroyed).toBe(false);
    gateway.signal('bob', 'b1', { kind: 'bye', link: 'X1' });
    expect(peer.destroyed).toBe(true);
    expect(events.link.at(-1)).toEqual({ friendId: 'bob', connectionId: 'b1', open: false });
    expect(mesh.openLinks('bob')).toEqual([]);
    expect(mesh.path('bob')).toBe('none');
    expect(gateway.take()).toEqual([]);
  });

  it('closes attempts at once when the friend goes offline, open links after a grace', () => {
    const { mesh, gateway, fakes, offer, openFrom } = setupMesh();
    const open = openFrom('b1', 'X1');
    offer('b2', 'X2');
    const attempt = fakes.last();
    gateway.take();
    gateway.presence('bob', 'offline');
    expect(attempt.destroyed).toBe(true);
    expect(open.destroyed).toBe(false);
    vi.advanceTimersByTime(15_000);
    expect(open.destroyed).toBe(true);
    expect(mesh.openLinks('bob')).toEqual([]);
    expect(gateway.take()).toEqual([]); // nobody there to say bye to
  });

  it('keeps open links when the friend is back within the grace (their signaling reconnected)', () => {
    const { mesh, gateway, openFrom } = setupMesh();
    const open = openFrom('b1', 'X1');
    gateway.presence('bob', 'offline');
    vi.advanceTimersByTime(1_000);
    gateway.presence('bob', 'online');
    vi.advanceTimersByTime(60_000);
    expect(open.destroyed).toBe(false);
    expect(mesh.openLinks('bob')).toEqual(['b1']);
  });

  it('looks for the friend’s connections again when they come back while wanted (a reopened tab)', () => {
    const { mesh, gateway, openFrom } = setupMesh();
    mesh.connect('bob');
    const open = openFrom('b1', 'X1');
    gateway.take();
    gateway.presence('bob', 'offline');
    vi.advanceTimersByTime(1_000);
    gateway.presence('bob', 'online');
    expect(gateway.take()).toEqual([broadcastKnock]);
    expect(open.destroyed).toBe(false);
  });

  it('closes everything at once when unfriended, and then ignores them', () => {
    const { mesh, gateway, fakes, events, offer, openFrom } = setupMesh();
    mesh.connect('bob');
    const open = openFrom('b1', 'X1');
    offer('b2', 'X2');
    gateway.take();
    gateway.friendRemoved('bob');
    expect(fakes.peers.every((peer) => peer.destroyed)).toBe(true);
    expect(mesh.path('bob')).toBe('none');
    expect(events.path.at(-1)).toEqual({ friendId: 'bob', path: 'none' });
    expect(gateway.take()).toEqual([]);
    offer('b1', 'X3');
    expect(fakes.peers).toHaveLength(2);
    vi.advanceTimersByTime(60_000);
    expect(gateway.take()).toEqual([]);
    expect(open.destroyed).toBe(true);
  });

  it('disconnect says bye and stops wanting the friend', () => {
    const { mesh, gateway, openFrom } = setupMesh();
    mesh.connect('bob');
    const peer = openFrom('b1', 'X1');
    gateway.take();
    mesh.disconnect('bob');
    expect(peer.destroyed).toBe(true);
    expect(gateway.take()).toEqual([byeTo('b1', 'X1')]);
    vi.advanceTimersByTime(60_000);
    expect(gateway.take()).toEqual([]);
  });

  it('close() (sign-out) destroys every peer and forgets everything until the next hello', () => {
    const { mesh, gateway, fakes, offer, openFrom, knock } = setupMesh();
    mesh.connect('bob');
    openFrom('b1', 'X1');
    offer('b2', 'X2');
    mesh.close();
    expect(fakes.peers.every((peer) => peer.destroyed)).toBe(true);
    expect(mesh.path('bob')).toBe('none');
    gateway.take();
    knock('z9');
    vi.advanceTimersByTime(60_000);
    expect(fakes.peers).toHaveLength(2);
    expect(gateway.take()).toEqual([]);
  });

  it('leaves no peer behind after ICE failure or the channel closing', () => {
    const { mesh, fakes, openFrom } = setupMesh();
    openFrom('b1', 'X1').ice('failed');
    openFrom('b2', 'X2').closeByItself();
    expect(fakes.peers.every((peer) => peer.destroyed)).toBe(true);
    expect(mesh.openLinks('bob')).toEqual([]);
    expect(mesh.path('bob')).toBe('none');
  });
});

describe('dialing again', () => {
  it('redials a dropped link with jittered backoff while the friend is wanted', () => {
    const { mesh, gateway, openFrom } = setupMesh();
    mesh.connect('bob');
    openFrom('b1', 'X1').closeByItself();
    gateway.take();
    expect(mesh.path('bob')).toBe('connecting');
    vi.advanceTimersByTime(249); // random 0.5 of the first 500 ms ceiling
    expect(gateway.take()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('grows the delay while attempts fail and starts over after an open', () => {
    const { mesh, gateway, fakes, knock } = setupMesh();
    mesh.connect('bob');
    gateway.take();
    const knockTimes: number[] = [];
    const start = Date.now();
    for (let round = 0; round < 3; round += 1) {
      knock('z9'); // an answer arrives, we dial, the attempt times out
      vi.advanceTimersByTime(15_000);
      expect(gateway.take()).toContainEqual(byeTo('z9', `L${round + 1}`));
      while (gateway.sent.length === 0) vi.advanceTimersByTime(10);
      knockTimes.push(Date.now() - start);
      expect(gateway.take()).toEqual([broadcastKnock]);
    }
    const waits = knockTimes.map((t, i) => t - (i === 0 ? 0 : knockTimes[i - 1]!) - 15_000);
    expect(waits).toEqual([250, 500, 1000]);
    knock('z9');
    fakes.last().open();
    fakes.last().closeByItself();
    vi.advanceTimersByTime(250);
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('knocks again when a knock gets no answer in time', () => {
    const { mesh, gateway } = setupMesh();
    mesh.connect('bob');
    gateway.take();
    vi.advanceTimersByTime(15_000 + 250);
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('does not redial a friend the app does not want, or no longer wants', () => {
    const unwanted = setupMesh();
    unwanted.openFrom('b1', 'X1').closeByItself();
    vi.advanceTimersByTime(60_000);
    expect(unwanted.gateway.take()).toEqual([]);

    const expired = setupMesh();
    expired.mesh.connect('bob');
    const peer = expired.openFrom('b1', 'X1');
    vi.advanceTimersByTime(10 * 60_000);
    peer.closeByItself();
    expired.gateway.take();
    vi.advanceTimersByTime(60_000);
    expect(expired.gateway.take()).toEqual([]);
  });

  it('redials after a bye while wanted (the other side may have given up on a failure)', () => {
    const { mesh, gateway, openFrom } = setupMesh();
    mesh.connect('bob');
    openFrom('b1', 'X1');
    gateway.signal('bob', 'b1', { kind: 'bye', link: 'X1' });
    gateway.take();
    vi.advanceTimersByTime(250);
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('stops redialing while the friend is offline and knocks again when they return', () => {
    const { mesh, gateway, openFrom } = setupMesh();
    mesh.connect('bob');
    openFrom('b1', 'X1').closeByItself();
    gateway.presence('bob', 'offline');
    gateway.take();
    vi.advanceTimersByTime(60_000);
    expect(gateway.take()).toEqual([]);
    gateway.presence('bob', 'online');
    expect(gateway.take()).toEqual([broadcastKnock]);
  });

  it('answers a knock that came while the link looked open once that link drops', () => {
    const { fakes, knock, openTo } = setupMesh();
    openTo('z9');
    knock('z9'); // z9 lost the link before we noticed
    expect(fakes.peers).toHaveLength(1);
    fakes.last().ice('failed');
    expect(fakes.peers).toHaveLength(2);
    expect(fakes.last().options.initiator).toBe(true);
  });
});

describe('our signaling connection reconnects', () => {
  it('keeps open links, closes attempts, and uses the new connection id from then on', () => {
    const { mesh, gateway, fakes, knock, openFrom } = setupMesh();
    mesh.connect('bob');
    const open = openFrom('b1', 'X1');
    knock('z9');
    const attempt = fakes.last();
    gateway.take();
    expect(mesh.connectionId).toBe(ME);
    gateway.hello('a0', { bob: 'online' }); // a0 sorts before b1 now
    expect(mesh.connectionId).toBe('a0');
    expect(open.destroyed).toBe(false);
    expect(attempt.destroyed).toBe(true);
    expect(gateway.take()).toEqual([byeTo('z9', 'L1')]);
    expect(mesh.openLinks('bob')).toEqual(['b1']);
    knock('b2');
    expect(fakes.last().options.initiator).toBe(true); // a0 < b2: we dial
  });

  it('knocks from the new id for a wanted friend without an open link', () => {
    const { mesh, gateway } = setupMesh();
    mesh.connect('bob');
    gateway.take();
    gateway.hello('n1', { bob: 'online' });
    expect(gateway.take()).toEqual([broadcastKnock]);
    gateway.hello('n1', { bob: 'online' }); // a resync on the same connection changes nothing
    expect(gateway.take()).toEqual([]);
  });

  it('accepts a new link from the friend’s new connection id while holding the old open link', () => {
    const { mesh, fakes, events, openFrom } = setupMesh();
    const old = openFrom('b1', 'X1');
    const renewed = openFrom('a7', 'X2'); // Bob's page reconnected as a7
    expect(renewed.options.initiator).toBe(false);
    expect(mesh.openLinks('bob').sort()).toEqual(['a7', 'b1']);
    old.closeByItself();
    expect(fakes.peers.filter((peer) => !peer.destroyed)).toEqual([renewed]);
    expect(events.link.at(-1)).toEqual({ friendId: 'bob', connectionId: 'b1', open: false });
  });

  it('tells the page behind each open link from its hello: one instance across its connections', () => {
    const { mesh, events, fakes, offer, openFrom } = setupMesh();
    const BOB_PAGE = '3c9a1f7e-2b4d-4e6f-8a0b-1c2d3e4f5a6b';
    const hello = (instance?: string) =>
      JSON.stringify({
        type: 'peer_hello',
        version: PEER_PROTOCOL_VERSION,
        ...(instance ? { instance } : {}),
      });
    expect(mesh.instance).toMatch(/^[0-9a-f-]{36}$/);
    const first = openFrom('b1', 'X1');
    expect(mesh.instanceOf('bob', 'b1')).toBeNull(); // open, its hello not here yet
    first.data(hello(BOB_PAGE));
    expect(mesh.instanceOf('bob', 'b1')).toBe(BOB_PAGE);
    expect(events.instance).toEqual([{ friendId: 'bob', connectionId: 'b1', instance: BOB_PAGE }]);

    // Bob's page reconnected to the server as a7; its hello beats the open here: read on `link`.
    offer('a7', 'X2');
    const renewed = fakes.last();
    renewed.fileData(hello(BOB_PAGE));
    expect(mesh.instanceOf('bob', 'a7')).toBeNull();
    renewed.open();
    expect(events.link.at(-1)).toEqual({ friendId: 'bob', connectionId: 'a7', open: true });
    expect(mesh.instanceOf('bob', 'a7')).toBe(BOB_PAGE);
    expect(events.instance).toHaveLength(1);

    // A client that does not say its instance: its connection stands for it.
    openFrom('z9', 'X3').data(hello());
    expect(mesh.instanceOf('bob', 'z9')).toBe('z9');
    first.closeByItself();
    expect(mesh.instanceOf('bob', 'b1')).toBeNull();
    expect(mesh.instanceOf('carol', 'a7')).toBeNull();
  });

  it('replaces the old link to the same connection when the new one opens', () => {
    const { mesh, gateway, fakes, events, offer, openFrom } = setupMesh();
    const old = openFrom('b1', 'X1');
    gateway.take();
    offer('b1', 'X2'); // b1 dials again (it saw our new id, or lost its side)
    expect(old.destroyed).toBe(false);
    expect(mesh.openLinks('bob')).toEqual(['b1']);
    fakes.last().open();
    expect(old.destroyed).toBe(true);
    expect(gateway.take()).toEqual([byeTo('b1', 'X1')]);
    expect(mesh.openLinks('bob')).toEqual(['b1']);
    expect(events.link).toEqual([
      { friendId: 'bob', connectionId: 'b1', open: true },
      { friendId: 'bob', connectionId: 'b1', open: true },
    ]);
  });
});
