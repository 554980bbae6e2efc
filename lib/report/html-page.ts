/**
 * The style and the script of report.html. The script runs in the reader's browser, from the
 * file: it recolours the heatmap for the metric chosen (every cell carries each metric as a
 * data- attribute) and draws the timeline from the JSON embedded in the page. Nothing is fetched.
 */
/** Text for HTML: nothing in it can open or close an element or an attribute. */
export const esc = (v: unknown) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const PAGE_CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse}th,td{padding:.3em .6em;border:1px solid #ddd;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td.self,td.none{background:#fafafa;color:#aaa;text-align:center}
td.total,th.total{background:#eef;font-weight:600}
#campaign td{position:relative;isolation:isolate;text-align:left;min-width:9em}#campaign .bar{position:absolute;left:0;top:0;bottom:0;background:#dbe8f7;z-index:-1}
td[data-verdict=fail]{outline:2px solid #b00020;outline-offset:-2px;font-weight:600}
.good{color:#176317}.bad{color:#b00020;font-weight:600}.note{color:#666;font-size:.9em}
#timeline{min-height:340px}
`;

export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var HIGHER_IS_BETTER = { throughput: true, loss: false, jitter: false, retransmits: false, rtt: false };
  function fmt(v, m) {
    if (v === '' || v === null || isNaN(v)) return 'n/a';
    v = Number(v);
    if (m === 'throughput') return v >= 1e9 ? (v / 1e9).toFixed(2) + ' Gbit/s' : v >= 1e6 ? (v / 1e6).toFixed(1) + ' Mbit/s' : (v / 1e3).toFixed(0) + ' kbit/s';
    if (m === 'loss') return v.toFixed(2) + ' %';
    if (m === 'jitter') return v.toFixed(3) + ' ms';
    if (m === 'rtt') return v >= 1000 ? (v / 1000).toFixed(2) + ' ms' : v + ' \\u00b5s';
    return String(v);
  }
  function paint(metric) {
    var cells = document.querySelectorAll('#heatmap td.cell');
    var values = [];
    cells.forEach(function (c) { var v = c.getAttribute('data-' + metric); if (v !== '') values.push(Number(v)); });
    var max = Math.max.apply(null, values.concat([0]));
    cells.forEach(function (c) {
      var raw = c.getAttribute('data-' + metric);
      var state = c.getAttribute('data-verdict');
      c.setAttribute('data-value', raw);
      if (state === 'skipped' || state === 'failed') { c.style.background = '#ddd'; return; }
      c.textContent = fmt(raw, metric) + (state === 'fail' ? ' !' : '');
      if (raw === '' || max === 0) { c.style.background = '#fff'; return; }
      var share = Number(raw) / max;
      var good = HIGHER_IS_BETTER[metric] ? share : 1 - share;
      c.style.background = 'hsl(' + Math.round(good * 120) + ', 70%, 80%)';
    });
    document.getElementById('heatmap').setAttribute('data-metric', metric);
  }
  var select = document.getElementById('metric');
  select.addEventListener('change', function () { paint(select.value); });
  paint(select.value);

  var data = JSON.parse(document.getElementById('timeline-data').textContent);
  var box = document.getElementById('timeline');
  if (!data.x.length || typeof uPlot === 'undefined') { box.textContent = 'no per-second data in these results'; return; }
  var series = [{ label: 's' }].concat(data.series.map(function (s, k) {
    return { label: s.id, stroke: 'hsl(' + ((k * 47) % 360) + ', 60%, 50%)', width: 1, spanGaps: true, value: function (u, v) { return fmt(v, 'throughput'); } };
  }));
  series.push({ label: 'mesh', stroke: '#000', width: 3, spanGaps: true, scale: 'mesh', value: function (u, v) { return fmt(v, 'throughput'); } });
  var values = [data.x].concat(data.series.map(function (s) { return s.values; }), [data.aggregate]);
  var width = Math.max(600, Math.min(1400, box.clientWidth || 1000));
  box.setAttribute('data-series', String(data.series.length));
  new uPlot({
    width: width, height: 320, series: series,
    legend: { show: data.series.length <= 40 },
    scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, max * 1.05]; } }, mesh: { range: function (u, min, max) { return [0, max * 1.05]; } } },
    axes: [
      { label: 'seconds from the first client start (controller clock, ' + new Date(data.t0).toISOString() + ')' },
      { label: 'per flow', values: function (u, ticks) { return ticks.map(function (v) { return fmt(v, 'throughput'); }); }, size: 90 },
      { side: 1, scale: 'mesh', label: 'mesh', values: function (u, ticks) { return ticks.map(function (v) { return fmt(v, 'throughput'); }); }, size: 90, grid: { show: false } }
    ]
  }, values, box);
})();
`;
