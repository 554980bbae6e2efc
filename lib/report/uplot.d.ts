/**
 * uPlot's script and style, as text: scripts/build.mjs writes dist/report/uplot.js from the
 * uplot package at build time, so that report.html carries them inline and fetches nothing.
 */
export declare const UPLOT_JS: string;
export declare const UPLOT_CSS: string;
