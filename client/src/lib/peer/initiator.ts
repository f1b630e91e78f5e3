/**
 * Who dials whom. Both ends of a pair of connections compare the same two connection ids, so they
 * always agree on which one makes the offer: two peer connections for one pair (glare) cannot
 * happen by construction.
 */

/** Whether the connection `self` makes the offer to `remote`: the smaller id (string order) dials. */
export function shouldInitiate(self: string, remote: string): boolean {
  return self < remote;
}
