/** Kernel CPU lists ("0-3,8,10-11"): the inventory's `cpus` and /proc's affinity lists. */

export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    const end = b === undefined ? a : b;
    for (let c = a; c <= end; c++) cpus.push(c);
  }
  return cpus;
}
