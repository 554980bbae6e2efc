/**
 * iperf3 versions: reading them and gating flags on them. Shared by the controller (which decides
 * what to ask for) and the daemon (which builds the argv).
 */

/** "iperf 3.12 (cJSON 1.7.15)" -> "3.12"; "iperf 3.9" -> "3.9". */
export function parseIperfVersion(text: string): string | null {
  const m = /iperf\s+(\d+\.\d+(?:\.\d+)?)/.exec(text);
  return m ? m[1]! : null;
}

/** Compare "3.10" with "3.9" numerically. */
export function versionAtLeast(version: string | null, min: string): boolean {
  if (!version) return false;
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** The oldest iperf3 meshperf runs with (JSON output and the flags it relies on). */
export const MIN_IPERF3 = '3.9';

/**
 * Flags meshperf itself adds (not test options, whose versions are in the option table), and the
 * first iperf3 version that has each.
 */
export const FLAG_SINCE = {
  '--idle-timeout': '3.10',
  '--json-stream': '3.17',
} as const;

export type VersionedFlag = keyof typeof FLAG_SINCE;

export function supports(version: string | null, flag: VersionedFlag): boolean {
  return versionAtLeast(version, FLAG_SINCE[flag]);
}
