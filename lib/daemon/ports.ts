/** Which free ports of the range to hand out (the taken ones come from /proc/net/tcp{,6}). */

/**
 * Pick `count` ports from the inclusive range, skipping every port in `taken`. Throws a message
 * that says how many were found, so the operator knows to widen port_range.
 */
export function pickPorts(range: readonly [number, number], count: number, taken: ReadonlySet<number>): number[] {
  const [lo, hi] = range;
  const picked: number[] = [];
  for (let p = lo; p <= hi && picked.length < count; p++) {
    if (!taken.has(p)) picked.push(p);
  }
  if (picked.length < count) {
    throw new Error(
      `port_range ${lo}-${hi} has only ${picked.length} free ports, ${count} needed: widen port_range`,
    );
  }
  return picked;
}
