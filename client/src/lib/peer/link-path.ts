/**
 * Reads how a peer connection reaches the other side from its `getStats()` report: the transport's
 * selected candidate pair (or, in older reports, the pair marked selected/nominated and succeeded),
 * then the candidate types of its two ends. A relayed candidate on either end means TURN.
 */

/** How one open link travels. */
export type LinkPath = 'direct' | 'turn';

/** One entry of a stats report, as `RTCStatsReport` values or simple-peer's flattened reports. */
export type StatsEntry = { id?: unknown; type?: unknown } & Record<string, unknown>;

/** The path of the selected candidate pair, or null when there is none yet. */
export function pathFromStats(entries: Iterable<StatsEntry>): LinkPath | null {
  const byId = new Map<string, StatsEntry>();
  const list = [...entries];
  for (const entry of list) if (typeof entry.id === 'string') byId.set(entry.id, entry);

  let pair: StatsEntry | undefined;
  for (const entry of list) {
    if (entry.type === 'transport' && typeof entry.selectedCandidatePairId === 'string') {
      pair = byId.get(entry.selectedCandidatePairId);
      if (pair) break;
    }
  }
  // Reports without `selectedCandidatePairId` (Firefox) mark the pair itself.
  pair ??= list.find(
    (entry) =>
      entry.type === 'candidate-pair' &&
      (entry.selected === true || entry.nominated === true) &&
      entry.state === 'succeeded',
  );
  if (!pair) return null;

  const local = typeof pair.localCandidateId === 'string' ? byId.get(pair.localCandidateId) : undefined;
  const remote = typeof pair.remoteCandidateId === 'string' ? byId.get(pair.remoteCandidateId) : undefined;
  if (!local && !remote) return null;
  return local?.candidateType === 'relay' || remote?.candidateType === 'relay' ? 'turn' : 'direct';
}
