import { describe, expect, it } from 'vitest';
import { pathFromStats, type StatsEntry } from './link-path.js';

function report(localType: string, remoteType: string, extra: StatsEntry[] = []): StatsEntry[] {
  return [
    { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' },
    { id: 'CP0', type: 'candidate-pair', localCandidateId: 'L0', remoteCandidateId: 'R0', state: 'failed' },
    {
      id: 'CP1',
      type: 'candidate-pair',
      localCandidateId: 'L1',
      remoteCandidateId: 'R1',
      state: 'succeeded',
    },
    { id: 'L0', type: 'local-candidate', candidateType: 'relay' },
    { id: 'R0', type: 'remote-candidate', candidateType: 'relay' },
    { id: 'L1', type: 'local-candidate', candidateType: localType },
    { id: 'R1', type: 'remote-candidate', candidateType: remoteType },
    ...extra,
  ];
}

describe('pathFromStats', () => {
  it('reads the transport’s selected pair: host/srflx on both ends is direct', () => {
    expect(pathFromStats(report('host', 'host'))).toBe('direct');
    expect(pathFromStats(report('srflx', 'prflx'))).toBe('direct');
  });

  it('is turn when either end of the selected pair is relayed', () => {
    expect(pathFromStats(report('relay', 'host'))).toBe('turn');
    expect(pathFromStats(report('host', 'relay'))).toBe('turn');
  });

  it('falls back to a selected or nominated pair that succeeded (no transport entry)', () => {
    const entries: StatsEntry[] = [
      { id: 'CP0', type: 'candidate-pair', nominated: true, state: 'in-progress', localCandidateId: 'L0' },
      { id: 'CP1', type: 'candidate-pair', nominated: true, state: 'succeeded', localCandidateId: 'L1' },
      { id: 'L0', type: 'local-candidate', candidateType: 'host' },
      { id: 'L1', type: 'local-candidate', candidateType: 'relay' },
    ];
    expect(pathFromStats(entries)).toBe('turn');
  });

  it('is null before a pair is selected, or when its candidates are missing', () => {
    expect(pathFromStats([])).toBeNull();
    expect(pathFromStats([{ id: 'T01', type: 'transport' }])).toBeNull();
    expect(
      pathFromStats([
        { id: 'T01', type: 'transport', selectedCandidatePairId: 'CP1' },
        { id: 'CP1', type: 'candidate-pair', localCandidateId: 'gone', remoteCandidateId: 'gone' },
      ]),
    ).toBeNull();
  });

  it('ignores malformed entries', () => {
    const entries = [{ type: 'transport', selectedCandidatePairId: 42 }, { id: 7 }] as StatsEntry[];
    expect(pathFromStats(entries)).toBeNull();
  });
});
