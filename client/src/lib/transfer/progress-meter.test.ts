import { describe, expect, it } from 'vitest';
import { ProgressMeter } from './progress-meter.js';

function setup() {
  const clock = { now: 0 };
  const meter = new ProgressMeter({ now: () => clock.now, windowMs: 3000 });
  return { clock, meter };
}

describe('ProgressMeter', () => {
  it('has no speed or time left before it has measured', () => {
    const { meter } = setup();
    expect(meter.snapshot(0, 100)).toEqual({ bytes: 0, total: 100, bytesPerSecond: 0, secondsLeft: null });
    meter.sample(0);
    expect(meter.snapshot(0, 100).secondsLeft).toBeNull();
  });

  it('measures the speed and the time left', () => {
    const { clock, meter } = setup();
    for (let t = 0; t <= 2000; t += 100) {
      clock.now = t;
      meter.sample(t * 1000); // 1 MB/s
    }
    const progress = meter.snapshot(2_000_000, 10_000_000);
    expect(progress.bytesPerSecond).toBeCloseTo(1_000_000);
    expect(progress.secondsLeft).toBeCloseTo(8);
  });

  it('follows the recent speed, not the average since the start', () => {
    const { clock, meter } = setup();
    let bytes = 0;
    for (let t = 0; t <= 10_000; t += 100) {
      clock.now = t;
      bytes += t < 5000 ? 100_000 : 10_000; // 1 MB/s, then 100 kB/s
      meter.sample(bytes);
    }
    expect(meter.snapshot(bytes, bytes * 2).bytesPerSecond).toBeCloseTo(100_000, -3);
  });

  it('slows down when nothing arrives, and says 0 s left when done', () => {
    const { clock, meter } = setup();
    meter.sample(0);
    clock.now = 1000;
    meter.sample(1_000_000);
    clock.now = 2000;
    expect(meter.snapshot(1_000_000, 2_000_000).bytesPerSecond).toBeCloseTo(500_000);
    clock.now = 10_000;
    expect(meter.snapshot(1_000_000, 2_000_000).bytesPerSecond).toBe(0);
    expect(meter.snapshot(2_000_000, 2_000_000).secondsLeft).toBe(0);
  });

  it('starts over after a reset', () => {
    const { clock, meter } = setup();
    meter.sample(0);
    clock.now = 1000;
    meter.sample(5_000_000);
    meter.reset();
    expect(meter.snapshot(5_000_000, 10_000_000).bytesPerSecond).toBe(0);
  });
});
