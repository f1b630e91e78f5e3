import { describe, expect, it } from 'vitest';
import { Handover } from './handover.js';
import { TransferError } from './transfer-error.js';

const BACKLOG = 100;

/** A task later: every promise that can settle by then has. */
const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Records a write of `size` bytes at the end of what was handed over and returns its wait. */
function write(handover: Handover, size: number): Promise<void> {
  handover.record(handover.posted, new Uint8Array(size));
  return handover.withinBacklog();
}

describe('Handover', () => {
  it('lets writes through at once while no more than the backlog is handed over and not done', async () => {
    const handover = new Handover(BACKLOG);
    let settled = 0;
    for (let i = 0; i < 4; i += 1) void write(handover, BACKLOG / 4).then(() => (settled += 1));
    await flush();
    expect(settled).toBe(4);
    expect(handover.posted).toBe(BACKLOG);
  });

  it('holds writes past the backlog and lets them go in order as progress passes them', async () => {
    const handover = new Handover(BACKLOG);
    await write(handover, BACKLOG);
    const order: number[] = [];
    void write(handover, 10).then(() => order.push(1));
    void write(handover, 10).then(() => order.push(2));
    void write(handover, 10).then(() => order.push(3));
    await flush();
    expect(order).toEqual([]);

    handover.progress(9);
    await flush();
    expect(order).toEqual([]);
    handover.progress(20);
    await flush();
    expect(order).toEqual([1, 2]);
    handover.progress(30);
    await flush();
    expect(order).toEqual([1, 2, 3]);
  });

  it('waits until the other side has done a given count', async () => {
    const handover = new Handover(BACKLOG);
    handover.record(0, new Uint8Array(50));
    let done = false;
    void handover.waitUntil(handover.posted).then(() => (done = true));
    handover.progress(49);
    await flush();
    expect(done).toBe(false);
    handover.progress(50);
    await flush();
    expect(done).toBe(true);
  });

  it('rejects every wait with the first failure, and every write and wait after it', async () => {
    const handover = new Handover(BACKLOG);
    await write(handover, BACKLOG);
    const waits = [write(handover, 10), write(handover, 10)];
    const first = new TransferError('write_failed', 'disk full');

    expect(handover.fail(first)).toBe(first);
    expect(handover.fail(new TransferError('write_failed', 'later'))).toBe(first);
    for (const wait of waits) await expect(wait).rejects.toBe(first);

    expect(() => handover.record(handover.posted, new Uint8Array(1))).toThrow(first);
    await expect(handover.waitUntil(0)).rejects.toBe(first);
    expect(handover.failure).toBe(first);
  });

  it('refuses a write out of order without counting it', () => {
    const handover = new Handover(BACKLOG);
    handover.record(0, new Uint8Array(10));
    expect(() => handover.record(5, new Uint8Array(10))).toThrow(RangeError);
    expect(handover.posted).toBe(10);
  });

  it("transfers a write's own buffer, and nothing for a shared one", () => {
    const handover = new Handover(BACKLOG);
    const data = new Uint8Array(8);
    expect(handover.record(0, data)).toEqual([data.buffer]);
    expect(handover.record(8, new Uint8Array(new SharedArrayBuffer(8)))).toEqual([]);
  });

  it('refuses writes once closed or ended, and a second close', () => {
    const closed = new Handover(BACKLOG);
    closed.close();
    expect(() => closed.record(0, new Uint8Array(1))).toThrow('the file is closed');
    expect(() => closed.close()).toThrow('the file is closed');

    const ended = new Handover(BACKLOG);
    ended.end();
    ended.end();
    expect(() => ended.record(0, new Uint8Array(1))).toThrow('the file is closed');
  });
});
