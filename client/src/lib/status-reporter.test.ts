import { describe, expect, it } from 'vitest';
import type { ClientFrame, HelloFrame } from '../../../shared/protocol.js';
import { Emitter } from './emitter.js';
import type { ServerFrameEvents } from './gateway.js';
import { StatusReporter } from './status-reporter.js';

function setup() {
  const frames = new Emitter<ServerFrameEvents>();
  const sent: ClientFrame[] = [];
  let online = false;
  const reporter = new StatusReporter({
    on: (type, handler) => frames.on(type, handler),
    send: (frame) => {
      if (!online) return false;
      sent.push(frame);
      return true;
    },
  });
  const hello: HelloFrame = {
    type: 'hello',
    protocolVersion: 1,
    user: { id: 'u1', username: 'ada' },
    connectionId: 'c1',
    friends: [],
    incoming: [],
    outgoing: [],
  };
  const connect = () => {
    online = true;
    frames.emit('hello', hello);
  };
  const disconnect = () => {
    online = false;
  };
  const statuses = () => sent.map((frame) => (frame.type === 'set_status' ? frame.status : frame.type));
  return { reporter, connect, disconnect, statuses };
}

describe('StatusReporter', () => {
  it('sends the current status after each hello', () => {
    const t = setup();
    t.connect();
    expect(t.statuses()).toEqual(['online']);
    t.connect();
    expect(t.statuses()).toEqual(['online', 'online']);
  });

  it('sends only changes while connected', () => {
    const t = setup();
    t.connect();
    t.reporter.report('online');
    t.reporter.report('away');
    t.reporter.report('away');
    t.reporter.report('online');
    expect(t.statuses()).toEqual(['online', 'away', 'online']);
  });

  it('keeps a change made while offline for the next connection', () => {
    const t = setup();
    t.connect();
    t.disconnect();
    t.reporter.report('away');
    expect(t.statuses()).toEqual(['online']);
    t.connect();
    expect(t.statuses()).toEqual(['online', 'away']);
  });

  it('starts over as online after reset', () => {
    const t = setup();
    t.reporter.report('away');
    t.reporter.reset();
    expect(t.reporter.status).toBe('online');
    t.connect();
    expect(t.statuses()).toEqual(['online']);
  });
});
