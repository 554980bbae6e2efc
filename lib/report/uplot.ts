/**
 * uPlot's script and style, inlined into report.html so that the page fetches nothing. The build
 * copies them (with uPlot's licence) beside this module, into dist/report/vendor/, so the package
 * needs no uplot at run time; from a checkout's lib/ (the tests), they come from the uplot
 * package, a devDependency.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const UPLOT_FILES = { js: 'uPlot.iife.min.js', css: 'uPlot.min.css' } as const;

function asset(name: string): string {
  try {
    return readFileSync(new URL(`./vendor/${name}`, import.meta.url), 'utf8');
  } catch {
    return readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${name}`), 'utf8');
  }
}

let cached: { js: string; css: string } | null = null;

/** Read once, when the first report is rendered (not when the library is imported). */
export function uplot(): { js: string; css: string } {
  cached ??= { js: asset(UPLOT_FILES.js), css: asset(UPLOT_FILES.css) };
  return cached;
}
