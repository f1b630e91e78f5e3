/**
 * A CPU profile of one page while something runs (CDP `Profiler`), summed into self time per
 * function: where a page's main thread spends its time. Idle and GC show as `(idle)` and
 * `(garbage collector)`; `(program)` is the browser's own work on that thread.
 */
import type { CDPSession, Page } from 'playwright-core';

/** What `Profiler.stop` returns, as far as it is read here. */
interface ProfilerProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }>;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileLine {
  /** `function file:line`, or the pseudo-frame's name. */
  name: string;
  ms: number;
  share: number;
}

export class PageProfile {
  readonly #cdp: CDPSession;

  private constructor(cdp: CDPSession) {
    this.#cdp = cdp;
  }

  static async start(page: Page, intervalUs = 200): Promise<PageProfile> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await cdp.send('Profiler.start');
    return new PageProfile(cdp);
  }

  /** Stops; the `top` functions by self time. */
  async stop(top = 12): Promise<ProfileLine[]> {
    const { profile } = await this.#cdp.send('Profiler.stop');
    await this.#cdp.detach().catch(() => {});
    return selfTimes(profile).slice(0, top);
  }
}

function selfTimes(profile: ProfilerProfile): ProfileLine[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const ms = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  // A sample's time is the delta to the next one.
  for (let i = 0; i < samples.length; i += 1) {
    const node = byNode.get(samples[i]!);
    const delta = (deltas[i + 1] ?? 0) / 1000;
    if (!node) continue;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const file = url ? url.slice(url.lastIndexOf('/') + 1) : '';
    const name = file
      ? `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}:${columnNumber + 1}`
      : functionName;
    ms.set(name, (ms.get(name) ?? 0) + delta);
    total += delta;
  }
  return [...ms]
    .map(([name, time]) => ({ name, ms: time, share: total > 0 ? time / total : 0 }))
    .sort((x, y) => y.ms - x.ms);
}
