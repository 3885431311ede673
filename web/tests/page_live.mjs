// The page in live mode against a stand-in server (playwright's request routing, no socket):
//
//   node web/tests/page_live.mjs SCREENSHOT.png
//
// Serves the page as the web UI does (scripts at /assets/...), a View of 2,000 endpoints from
// /api/view, and from /api/events five `second` deltas. Checks that the deltas are appended
// (series, windows, per-endpoint windows with gaps, the monitored server's rows and charts),
// replaced fields follow (the table, the
// state), a gap makes the page fetch the whole View again, and no main-thread task takes over
// 500 ms while 2,000 rows update (see the check for why that much). The real server is tested by the web UI's own tests.
import { readFileSync } from 'node:fs';
import { launch, check } from './browser.mjs';

const [screenshot] = process.argv.slice(2);
const ENDPOINTS = 2000;
const Q = ['p50', 'p75', 'p90', 'p95', 'p99', 'p99.9', 'max'];
const page_html = readFileSync('crates/barrage-web/assets/page.html', 'utf8')
  .replace('<!--barrage:csp-->', '')
  .replace('<!--barrage:styles-->', '<link rel="stylesheet" href="/assets/uplot.css"><link rel="stylesheet" href="/assets/app.css">')
  .replace('<!--barrage:view-->', '')
  .replace('<!--barrage:scripts-->', '<script src="/assets/uplot.js"></script><script src="/assets/dom.js"></script>'
    + '<script src="/assets/capacity.js"></script><script src="/assets/app.js"></script>');
const files = {
  '/assets/uplot.js': ['web/node_modules/uplot/dist/uPlot.iife.min.js', 'text/javascript'],
  '/assets/uplot.css': ['web/node_modules/uplot/dist/uPlot.min.css', 'text/css'],
  '/assets/dom.js': ['crates/barrage-web/assets/dom.js', 'text/javascript'],
  '/assets/capacity.js': ['crates/barrage-web/assets/capacity.js', 'text/javascript'],
  '/assets/app.js': ['crates/barrage-web/assets/app.js', 'text/javascript'],
  '/assets/app.css': ['crates/barrage-web/assets/app.css', 'text/css'],
};

function latency(ms) {
  return { count: 10, min: ms / 2, mean: ms, max: ms * 3, p50: ms, p75: ms, p90: ms, p95: ms * 2, p99: ms * 2, p999: ms * 3 };
}

function row(i, second) {
  return {
    scenario: 's', method: 'GET', name: `/e/${i}`, requests: 10 * second + i, failures: i % 7 === 0 ? 1 : 0,
    interrupted: 0, rps: 10, response_time: latency(1 + (i % 50) + second / 10), service_time: latency(1),
    status_codes: { 200: 10 * second + i }, failures_by_category: {}, bytes_sent: 0, bytes_received: 0,
    retries: 0, current_rps: 10, failures_per_s: 0,
  };
}

function series(from, to) {
  const t = [];
  for (let s = from; s <= to; s++) t.push(s);
  return {
    t, users: t.map(() => 20), rps: t.map((s) => 1000 + s), failures_per_s: t.map(() => 1), in_flight: t.map(() => 5),
    cpu_percent: t.map(() => 10), dropped: t.map(() => 0), p50: t.map(() => 3), p95: t.map(() => 9), p99: t.map(() => 12), max: t.map(() => 40),
  };
}

function windows(ts, endpoints) {
  return {
    quantiles: Q, start: ts.map((t) => 1700000000 + t), t: ts, requests: ts.map(() => 10000),
    aggregate: Q.map((_, q) => ts.map(() => 3 + q)),
    endpoints: endpoints.map((i) => ({ i, values: Q.map((_, q) => ts.map(() => 10 * i + q)) })),
    open: { start: 1700000000 + ts[ts.length - 1] + 10, t: ts[ts.length - 1] + 4, values: Q.map((_, q) => 100 + q) },
  };
}

// The monitored server: one process source, CPU 10 x s % and RSS s MiB at second s.
function server(from, to) {
  const rows = [];
  for (let s = from; s <= to; s++) rows.push({ t: s, values: [10 * s, 1048576 * s] });
  return {
    interval_s: 1,
    sources: [{
      kind: 'process', name: 'processes (port 8000)', target: '--monitor-port 8000', rows,
      columns: [{ key: 'cpu', label: 'CPU', unit: '%', figure: 'server_cpu' }, { key: 'rss', label: 'RSS', unit: 'bytes', figure: 'server_rss' }],
    }],
    probe: null, stats: { figures: [] }, hints: ['a hint'],
  };
}

function view(second) {
  const endpoints = [];
  for (let i = 0; i < ENDPOINTS; i++) endpoints.push(row(i, second));
  return {
    mode: 'live', state: 'running', tool_version: 'test', load: '20 users',
    run: { scenario_file: 'x.yaml', scenario_sha256: null, target: 'http://127.0.0.1:1', started_at: '', ended_at: '', duration_s: 0, workers: 1, interrupted: false, load: { model: null, rate: null, users: 20, spawn_rate: null, duration_s: null, iterations: null }, host: { os: 'linux', arch: 'x86_64', cpus: 2 }, command: 'barrage run x.yaml --web' },
    form: { host: 'http://127.0.0.1:1', run_time_s: null, scenarios: [{ name: 's', steers: 'users', users: 20, spawn_rate: 1, rate: null, load: '20 users' }], editable: true },
    elapsed_s: second, stats_since_s: 0, users: 20, in_flight: 5,
    endpoints, aggregate: Object.assign(row(0, second), { method: '', name: 'Aggregated', requests: 123456 + second }),
    failures: [], checks: [], tasks: [], connections: { opened: 1, connect_time: latency(1), tls_time: latency(0), users_never_connected: 0 },
    generator: { schedule_lag: latency(0), start_delay: latency(0), iterations_started: 0, dropped_iterations: 0, queue_max: 0, queue_depth: 0, cpu_percent_max: 10, suspect: false },
    thresholds: [{ expr: 'p95<200ms', status: 'pending', observed: 9, limit: 200, unit: 'ms', abort_on_fail: false, note: null }],
    series: series(1, second), windows: windows([10], [0, 1]), spectra: [], timeline: [{ at_s: 5, what: 'users 10 -> 20', source: 'web' }],
    warnings: [], never_ran: [], notices: [], verdict: null, baseline: null, server: server(1, second),
  };
}

// Seconds 21..24: each a delta. The second window (t=20) arrives with endpoint 1 and a new
// endpoint 2; endpoint 0 is idle in it. The stream then ends; the EventSource reconnects
// (after `retry`) and gets second 30: a gap, after which the page fetches the whole View.
function delta(s, newWindow) {
  const d = view(s);
  d.series = series(s, s);
  d.server = server(s, s);
  d.windows = newWindow ? windows([20], [1, 2]) : Object.assign(windows([20], []), { start: [], t: [], requests: [], aggregate: Q.map(() => []), endpoints: [] });
  return `event: second\ndata: ${JSON.stringify(d)}\n\n`;
}

function firstStream() {
  return 'retry: 1500\n\n' + [21, 22, 23, 24].map((s) => delta(s, s === 21)).join('');
}

let viewFetches = 0;
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  let eventsServed = 0;
  await page.route('http://barrage.test/**', (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/') return route.fulfill({ body: page_html, contentType: 'text/html' });
    if (files[path]) return route.fulfill({ body: readFileSync(files[path][0]), contentType: files[path][1] });
    if (path === '/api/view') {
      viewFetches++;
      return route.fulfill({ body: JSON.stringify(view(viewFetches === 1 ? 20 : 30)), contentType: 'application/json' });
    }
    if (path === '/api/events') {
      eventsServed++;
      return route.fulfill({ body: eventsServed === 1 ? firstStream() : `retry: 60000\n\n${delta(30, false)}`, contentType: 'text/event-stream' });
    }
    if (path === '/api/distribution') {
      return route.fulfill({ body: JSON.stringify({ i: null, points: [[0, 1], [50, 3], [90, 8], [99, 20], [100, 40]] }), contentType: 'application/json' });
    }
    return route.fulfill({ status: 404, body: '{"error":"no"}' });
  });
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
  });
  await page.goto('http://barrage.test/');
  await page.waitForFunction(() => window.barrage.view && window.barrage.view.series.t.length >= 24, null, { timeout: 15000 });
  const state = await page.evaluate(() => {
    const v = window.barrage.view;
    return {
      t: v.series.t,
      wT: v.windows.t,
      e0: v.windows.endpoints.find((e) => e.i === 0).values[0],
      e2: v.windows.endpoints.find((e) => e.i === 2).values[0],
      agg: v.windows.aggregate[0],
      rows: document.querySelectorAll('#stats tr[data-endpoint]').length,
      req0: document.querySelector('#stats tr[data-endpoint="0"] td[data-col="requests"]').getAttribute('data-value'),
      aggReq: document.querySelector('#stats tr[data-endpoint="aggregate"] td[data-col="requests"]').getAttribute('data-value'),
      rpsPoints: window.barrage.charts.rps.data[0].length,
      latency: window.barrage.charts.latency.data,
      state: document.getElementById('state').textContent,
      running: !document.getElementById('running-controls').hidden,
      serverT: v.server.sources[0].rows.map((r) => r.t),
      serverCharts: [...window.barrage.serverCharts.values()].map((e) => e.chart.data),
      hints: [...document.querySelectorAll('#hints li')].map((li) => li.textContent),
    };
  });
  check(JSON.stringify(state.t) === JSON.stringify(Array.from({ length: 24 }, (_, k) => k + 1)), `series appended: ${state.t}`);
  check(JSON.stringify(state.wT) === '[10,20]', `windows appended: ${state.wT}`);
  check(JSON.stringify(state.e0) === '[0,null]', `endpoint 0 idle in the new window: ${state.e0}`);
  check(JSON.stringify(state.e2) === '[null,20]', `endpoint 2 new in it: ${state.e2}`);
  check(JSON.stringify(state.agg) === '[3,3]', `aggregate windows: ${state.agg}`);
  check(state.rows === ENDPOINTS + 1, `${state.rows} rows`);
  check(state.req0 === String(10 * 24), `row 0 requests follow the last delta: ${state.req0}`);
  check(state.aggReq === String(123456 + 24), `aggregate row: ${state.aggReq}`);
  check(state.rpsPoints === 24, `rps chart ${state.rpsPoints} points`);
  check(state.latency[0].length === 3 && state.latency[2][2] !== null, `open window drawn provisionally: ${JSON.stringify(state.latency)}`);
  check(state.state === 'running' && state.running, 'running controls shown');
  check(JSON.stringify(state.serverT) === JSON.stringify(state.t), `server rows appended: ${state.serverT}`);
  check(state.serverCharts.length === 2, `a server chart per unit: ${state.serverCharts.length}`);
  const [cpu, rss] = state.serverCharts;
  check(cpu[0].length === 24 && cpu[1][23] === 240 && rss[1][23] === 24, `server charts follow the deltas: ${cpu[1]} / ${rss[1]}`);
  check(JSON.stringify(state.hints) === '["a hint"]', `hints: ${state.hints}`);
  // The reconnection (and the gap it brings) fetch the whole View again: seconds 1..30.
  await page.waitForFunction(() => window.barrage.view.series.t.length === 30, null, { timeout: 15000 });
  check(viewFetches >= 2, `the View fetched again after the reconnection: ${viewFetches}`);
  const longTasks = await page.evaluate(() => window.__longTasks);
  const worst = Math.max(0, ...longTasks);
  console.log(`live page OK: ${state.rows} rows, ${state.t.length} seconds, ${viewFetches} view fetches, long tasks ${JSON.stringify(longTasks.map(Math.round))}`);
  // A regression alarm for the pathology this page once had (every row rebuilt, a number
  // formatter made per cell: seconds per update), not a speed target: the CI machine has 2
  // cores shared with the other tests, where the first build of the page has taken 55 to
  // 211 ms (2026-12-06); 500 ms leaves that room and still catches a whole-table rebuild.
  check(worst < 500, `a main-thread task took ${worst} ms with ${ENDPOINTS} endpoints`);
  check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  if (screenshot) await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
}
