import { describe, expect, it } from 'vitest';
import { RELAY_PACE, RelayPacer } from './relay-pacer.js';

function pacer(pace = RELAY_PACE) {
  let now = 0;
  return { pacer: new RelayPacer(pace, () => now), advance: (ms: number) => (now += ms) };
}

describe('RelayPacer', () => {
  it('lets a burst go, then paces frames at the sustained rate', () => {
    const { pacer: p, advance } = pacer();
    for (let i = 0; i < 30; i++) expect(p.take(100)).toBe(0);
    expect(p.take(100)).toBe(100);
    advance(99);
    expect(p.take(100)).toBe(1);
    advance(1);
    expect(p.take(100)).toBe(0);
  });

  it('never lets more than the server allows through in any 10 s', () => {
    const { pacer: p, advance } = pacer();
    const sent: number[] = [];
    for (let t = 0; t < 60_000; t += 10) {
      while (p.take(40_000) === 0) sent.push(t);
      advance(10);
    }
    for (let start = 0; start < 50_000; start += 1_000) {
      const inWindow = sent.filter((t) => t >= start && t < start + 10_000);
      expect(inWindow.length).toBeLessThanOrEqual(130);
      expect(inWindow.length * 40_000).toBeLessThanOrEqual(8 * 1024 * 1024);
    }
  });

  it('waits for bytes as well as frames', () => {
    const { pacer: p } = pacer();
    expect(p.take(1024 * 1024)).toBe(0);
    expect(p.take(512 * 1024)).toBe(1000);
  });

  it('keeps a reserve for messages: bulk waits while it would be used, the sustained rate stays', () => {
    const { pacer: p, advance } = pacer();
    const reserve = RELAY_PACE.bulkReserveFrames ?? 0;
    expect(reserve).toBeGreaterThan(0);
    let bulk = 0;
    while (p.take(1000, 'bulk') === 0) bulk += 1;
    expect(bulk).toBe(RELAY_PACE.frameBurst - reserve);
    // What bulk left, messages may use at once.
    for (let i = 0; i < reserve; i++) expect(p.take(1000)).toBe(0);
    expect(p.take(1000)).toBeGreaterThan(0);
    // Over a minute, bulk alone gets the sustained rate.
    let sent = 0;
    for (let t = 0; t < 60_000; t += 10) {
      while (p.take(1000, 'bulk') === 0) sent += 1;
      advance(10);
    }
    expect(sent).toBeGreaterThanOrEqual(60 * RELAY_PACE.framesPerSecond - reserve - 1);
  });

  it('keeps a byte reserve too, and lets bulk through a pace smaller than its reserve', () => {
    const { pacer: p } = pacer();
    expect(RELAY_PACE.bulkReserveBytes).toBeGreaterThan(10_000);
    expect(p.take(RELAY_PACE.byteBurst - 10_000)).toBe(0);
    expect(p.take(1000, 'bulk')).toBeGreaterThan(0);
    expect(p.take(1000)).toBe(0);
    const { pacer: small } = pacer({
      framesPerSecond: 1,
      frameBurst: 1,
      bytesPerSecond: 100,
      byteBurst: 100,
      bulkReserveFrames: 5,
      bulkReserveBytes: 500,
    });
    expect(small.take(100, 'bulk')).toBe(0);
  });

  it('counts frames that must go (keys, closes) against the next ones', () => {
    const { pacer: p } = pacer({ framesPerSecond: 1, frameBurst: 1, bytesPerSecond: 1e9, byteBurst: 1e9 });
    p.charge(10);
    expect(p.take(10)).toBe(1000);
  });
});
