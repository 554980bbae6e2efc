// The chart of `npm run bench`: one bar per ratio, its goal as a mark, as a self-contained SVG
// (no library: a dozen bars). Pure: entries in, text out.

const ROW = 26;
const LABEL_W = 330;
const BAR_W = 420;
/** A ratio for people: two decimals, or two significant digits when it is that small. */
const fmt = (r) => (r >= 0.1 ? r.toFixed(2) : r.toPrecision(2));
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** entries: { label, ratio, goal } as bench/record.mjs writes them; lower is better. */
export function benchSvg(entries, title) {
  const max = Math.max(1, ...entries.flatMap((e) => [e.ratio, e.goal ?? 0])) * 1.1;
  const x = (v) => LABEL_W + (v / max) * BAR_W;
  const height = 40 + entries.length * ROW + 30;
  const rows = entries.map((e, i) => {
    const y = 40 + i * ROW;
    const colour = e.goal === null ? '#7a8ca0' : e.ratio <= e.goal ? '#2e8b57' : '#c0392b';
    const goal = e.goal === null ? '' : `<line x1="${x(e.goal)}" x2="${x(e.goal)}" y1="${y - 2}" y2="${y + 20}" stroke="#222" stroke-width="2"/>`;
    return [
      `<text x="${LABEL_W - 8}" y="${y + 14}" text-anchor="end">${esc(e.label)}</text>`,
      `<rect x="${LABEL_W}" y="${y}" width="${Math.max(1, x(e.ratio) - LABEL_W)}" height="18" fill="${colour}"/>`,
      `<text x="${Math.max(x(e.ratio), e.goal === null ? 0 : x(e.goal)) + 6}" y="${y + 14}">${fmt(e.ratio)}×${e.goal === null ? '' : ` (goal ≤ ${e.goal})`}</text>`,
      goal,
    ].join('');
  });
  const one = `<line x1="${x(1)}" x2="${x(1)}" y1="30" y2="${height - 25}" stroke="#bbb" stroke-dasharray="4 3"/><text x="${x(1)}" y="${height - 10}" text-anchor="middle" fill="#666">1×</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL_W + BAR_W + 170}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-weight="bold">${esc(title)}</text>`,
    one,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}

/** The same entries as a Markdown table. */
export function benchTable(entries) {
  const verdict = (e) => (e.goal === null ? 'watched' : e.ratio <= e.goal ? `≤ ${e.goal}: met` : `≤ ${e.goal}: **not met**`);
  return ['| benchmark | ratio | goal | measured |', '|---|---|---|---|', ...entries.map((e) => `| ${e.label} | **${fmt(e.ratio)}×** | ${verdict(e)} | ${e.detail} |`)].join('\n');
}
