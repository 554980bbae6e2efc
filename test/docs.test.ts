// The docs agree with the code and render: every mermaid block of docs/ and the README drawn by
// mermaid (from npm) in a real Chromium, failing on a parse error; the results.json example of
// docs/results.md valid against the schema; the sizes operations.md states, the real ones.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { LOADER_JS } from '../lib/transport/loader.js';
import { CSV_COLUMNS } from '../lib/results/write.js';
import { schemaErrors } from './helpers/schema.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const DOCS = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f))];

/** Each fenced block of `lang` in the file, with the line it starts on. */
function blocks(file: string, lang: string): { file: string; line: number; text: string }[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: { file: string; line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```' + lang) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    out.push({ file, line: i + 1, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}

t.test('every mermaid diagram in the docs renders in Chromium', { skip: !CHROMIUM && 'no chromium here' }, async (t) => {
  const diagrams = DOCS.flatMap((f) => blocks(f, 'mermaid'));
  t.ok(diagrams.length >= 5, `${diagrams.length} diagrams found`);
  const mermaid = createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ path: mermaid });
  const results = await page.evaluate(async (texts: string[]) => {
    const m = (window as unknown as { mermaid: { initialize(o: object): void; render(id: string, text: string): Promise<{ svg: string }> } }).mermaid;
    m.initialize({ startOnLoad: false, securityLevel: 'strict' });
    const out: { svg?: number; error?: string }[] = [];
    for (let i = 0; i < texts.length; i++) {
      try {
        out.push({ svg: (await m.render(`d${i}`, texts[i]!)).svg.length });
      } catch (err) {
        out.push({ error: String((err as Error)?.message ?? err) });
      }
    }
    return out;
  }, diagrams.map((d) => d.text));
  diagrams.forEach((d, i) => {
    const r = results[i]!;
    if (r.error) t.fail(`${d.file}:${d.line}: ${r.error}`);
    else t.ok(r.svg! > 1000, `${d.file}:${d.line} renders (${r.svg} characters of SVG)`);
  });
});

t.test('the results.json example in docs/results.md fits the schema', async (t) => {
  const [example] = blocks('docs/results.md', 'json');
  t.ok(example, 'docs/results.md has its example');
  const doc = JSON.parse(example!.text);
  t.equal(schemaErrors(doc), '', `docs/results.md:${example!.line}`);
  for (const key of ['timings', 'coverage', 'warnings']) t.ok(key in doc.run, `it shows run.${key}`);
  t.ok(doc.run.hosts.every((h: { connections?: unknown }) => h.connections), 'and each host\'s connections');
});

t.test('the sizes operations.md states are the real ones', async (t) => {
  const text = readFileSync('docs/operations.md', 'utf8');
  const loader = Number(/<(\d+)-byte loader>/.exec(text)?.[1]);
  t.equal(loader, Buffer.byteLength(LOADER_JS), 'the loader');
  const bundle = Number(/daemon bundle \(about (\d+) KB\)/.exec(text)?.[1]);
  const real = statSync('dist/daemon.cjs').size / 1000;
  t.ok(Math.abs(bundle - real) / real < 0.15, `the bundle: said ${bundle} KB, is ${real.toFixed(1)} KB`);
});

t.test('the results.csv example in docs/results.md has the columns results.csv has', async (t) => {
  const [example] = blocks('docs/results.md', 'csv');
  const lines = example!.text.split('\n');
  t.same(lines[0]!.split(','), [...CSV_COLUMNS], 'the header');
  for (const row of lines.slice(1)) t.equal(row.split(',').length, CSV_COLUMNS.length, 'each row as wide (no field of these holds a comma)');
});
