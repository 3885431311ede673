// The HTML report in a real Chromium, opened from file:// as a reader would:
//
//   node web/tests/report.mjs REPORT.html RESULT.json EXIT_CODE SCREENSHOT.png [--baseline]
//
// Checks that it opens with no console error and no network request (only the file itself),
// shows the verdict barrage gave the run, that every row of table#stats equals the result
// file, that the charts have data, that the percentile picker switches what the latency chart
// shows (when the result has 10-second windows, their values are the picked quantile), and,
// with --baseline, that the baseline is drawn and compared; with --server, that the result's
// server section is drawn (a chart per source and unit with the rows' values, on the time
// axis of the request charts; the probe's stalls; processes; statements; the hints by the
// verdict), and without it, that no server block shows. Run by
// crates/barrage/tests/web_report.rs.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, check } from './browser.mjs';

const [reportPath, resultPath, exitCode, screenshot, ...flags] = process.argv.slice(2);
if (!screenshot) {
  console.error('usage: node web/tests/report.mjs REPORT.html RESULT.json EXIT_CODE SCREENSHOT.png [--baseline] [--server]');
  process.exit(2);
}
const withBaseline = flags.includes('--baseline');
const withServer = flags.includes('--server');
const result = JSON.parse(readFileSync(resultPath, 'utf8'));
const url = pathToFileURL(resolve(reportPath)).href;

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  const requests = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      errors.push(msg.text());
    }
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));

  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#stats tr[data-endpoint="aggregate"] td[data-col="requests"][data-value]');

  // The verdict, first thing on the page.
  const verdict = await page.$eval('#verdict', (v) => ({
    passed: v.getAttribute('data-passed'),
    exit: v.getAttribute('data-exit-code'),
    text: v.textContent,
  }));
  check(verdict.exit === exitCode, `verdict exit code ${verdict.exit}, barrage exited ${exitCode}`);
  check(verdict.passed === String(exitCode === '0'), `verdict passed=${verdict.passed} for exit ${exitCode}`);
  check(/PASSED|FAILED/.test(verdict.text), `verdict text: ${verdict.text}`);
  check((await page.textContent('#state')) === 'ended', 'state is ended');

  // Every row equals the result file.
  const table = await page.$$eval('#stats tr[data-endpoint]', (trs) => trs.map((tr) => {
    const cells = {};
    tr.querySelectorAll('td[data-col]').forEach((td) => {
      cells[td.getAttribute('data-col')] = JSON.parse(td.getAttribute('data-value'));
    });
    return { key: tr.getAttribute('data-endpoint'), name: tr.children[1].textContent, cells };
  }));
  check(table.length === result.endpoints.length + 1, `${table.length} rows for ${result.endpoints.length} endpoints + aggregate`);
  const expected = result.endpoints.map((e, i) => [String(i), e]).concat([['aggregate', result.aggregate]]);
  for (const [key, e] of expected) {
    const row = table.find((r) => r.key === key);
    check(row, `row ${key}`);
    check(row.name === e.name, `row ${key} name ${row.name} vs ${e.name}`);
    const want = {
      requests: e.requests,
      failures: e.failures,
      p50: e.response_time.p50,
      p95: e.response_time.p95,
      p99: e.response_time.p99,
      max: e.response_time.max,
      service_p95: e.service_time.p95,
    };
    for (const [col, v] of Object.entries(want)) {
      check(row.cells[col] === v, `row ${key} ${col}: page ${row.cells[col]}, result ${v}`);
    }
  }

  // The charts have the run's data.
  const charts = await page.evaluate(() => {
    const c = window.barrage.charts;
    return {
      rps: c.rps.data[0].length,
      rpsValues: c.rps.data[1].filter((v) => v != null).length,
      users: c.users.data[1].filter((v) => v != null).length,
      distribution: c.distribution.data[0].length,
      latencyEmptyShown: !document.getElementById('latency-empty').hidden,
      baselineRps: c.rps.data[3].filter((v) => v != null).length,
      baselineShown: c.rps.series[3].show,
    };
  });
  check(result.series.length > 0, 'the run has a series');
  check(charts.rpsValues === result.series.length, `rps chart ${charts.rpsValues} points, series ${result.series.length}`);
  check(charts.users === result.series.length, `users chart ${charts.users} points`);
  check(charts.distribution > 5, `distribution chart ${charts.distribution} points`);
  const windows = result.windows || [];
  check(charts.latencyEmptyShown === (windows.length === 0), 'the "no window yet" note matches the windows');

  // The percentile picker switches what the latency chart shows.
  const pick = async (label) => {
    await page.selectOption('#quantile', label);
    return page.evaluate(() => {
      const c = window.barrage.charts.latency;
      const legend = c.root.querySelectorAll('.u-legend .u-series .u-label')[1];
      return { label: c.series[1].label, legend: legend && legend.textContent, values: c.data[1] };
    });
  };
  const p50 = await pick('p50');
  const max = await pick('max');
  check(p50.label === 'p50' && max.label === 'max', `picker labels ${p50.label}, ${max.label}`);
  check(max.legend === 'max', `legend shows ${max.legend}`);
  if (windows.length > 0) {
    check(p50.values.filter((v) => v != null).length >= windows.length, 'a point per window');
    const last = (xs) => xs.filter((v) => v != null).pop();
    check(last(max.values) >= last(p50.values), 'max is at least p50');
    check(JSON.stringify(p50.values) !== JSON.stringify(max.values), 'p50 and max differ');
    if (windows.length === 1) {
      // One window over the whole run: its percentiles are the table's.
      check(Math.abs(last(p50.values) - result.aggregate.response_time.p50) < 1e-9, `window p50 ${last(p50.values)} vs table ${result.aggregate.response_time.p50}`);
      check(Math.abs(last(max.values) - result.aggregate.response_time.max) < 1e-9, `window max ${last(max.values)} vs table`);
    }
    // Per endpoint: endpoint 0's own windows.
    await page.selectOption('#latency-endpoint', '0');
    const own = await page.evaluate(() => window.barrage.charts.latency.data[1]);
    const e0 = window0(result);
    if (e0 !== null && windows.length === 1) {
      check(Math.abs(own.filter((v) => v != null).pop() - e0) < 1e-9, `endpoint 0 window max ${own} vs table ${e0}`);
    }
    await page.selectOption('#latency-endpoint', 'aggregate');
  }
  await pick('p95');

  if (withBaseline) {
    check(charts.baselineShown && charts.baselineRps > 0, `baseline drawn under the run (${charts.baselineRps} points)`);
    const info = await page.textContent('#baseline-info');
    check(/Comparison verdict: passed|Comparison verdict: failed|Comparison verdict: not_enough_data/.test(info), `compare verdict shown: ${info}`);
    const compared = await page.$$eval('#compare tbody tr', (trs) => trs.length);
    check(compared >= 5, `compare rows: ${compared}`);
    check(!(await page.isHidden('#baseline-section')), 'baseline section shown');
  } else {
    check(await page.isHidden('#baseline-section'), 'no baseline section without a baseline');
  }

  // Sections with the result's content.
  const thresholds = await page.$$eval('#thresholds li[data-status]', (lis) => lis.map((li) => li.getAttribute('data-status')));
  check(thresholds.length === (result.thresholds || []).length, `${thresholds.length} thresholds shown`);
  (result.thresholds || []).forEach((t, i) => check(thresholds[i] === (t.passed ? 'pass' : 'fail'), `threshold ${t.expr}`));
  const checks = await page.$$eval('#checks tbody tr', (trs) => trs.length);
  check(checks === Math.max(1, (result.checks || []).length), `${checks} check rows`);
  check((await page.textContent('#generator')).includes('schedule lag'), 'generator health shown');

  if (withServer) {
    await checkServer(page, result.server);
  } else {
    check(!result.server, 'a result without --server has no server section');
    check(await page.isHidden('#server-section'), 'no server block without a server section');
    check(await page.isHidden('#hints'), 'no hints without a server section');
    check((await page.$$('.server-chart')).length === 0, 'no server chart');
  }

  await page.screenshot({ path: screenshot, fullPage: true });

  check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  const others = requests.filter((r) => r !== url);
  check(others.length === 0, `network requests besides the file: ${others.join(', ')}`);
  console.log(`report OK: ${table.length} rows, ${charts.rps} seconds, ${windows.length} windows, ${requests.length} request (the file)`);
} finally {
  await browser.close();
}

// Endpoint 0's max from its response-time statistics (a one-window run's window max).
function window0(r) {
  const e = r.endpoints[0];
  return e && e.response_time.count > 0 ? e.response_time.max : null;
}

// The server section as the page draws it, against the result file's.
async function checkServer(page, server) {
  check(server && server.sources.length > 0, 'the result has a server section');
  check(!(await page.isHidden('#server-section')), 'the server block shows');
  const charts = await page.evaluate(() => [...window.barrage.serverCharts.values()].map((e) => ({
    source: e.box.getAttribute('data-source'),
    unit: e.box.getAttribute('data-unit'),
    title: e.box.querySelector('h3').textContent,
    labels: e.chart.series.slice(1).map((x) => x.label),
    data: e.chart.data,
    x: [e.chart.scales.x.min, e.chart.scales.x.max],
  })));
  const rpsX = await page.evaluate(() => [window.barrage.charts.rps.scales.x.min, window.barrage.charts.rps.scales.x.max]);
  let want = 0;
  for (const src of server.sources.filter((x) => x.rows.length > 0)) {
    const units = [...new Set(src.columns.map((c) => c.unit))];
    for (const unit of units) {
      want += 1;
      const chart = charts.find((c) => c.source === src.name && c.unit === unit);
      check(chart, `a chart for ${src.name} in ${unit}`);
      const cols = src.columns.map((c, i) => [c, i]).filter(([c]) => c.unit === unit);
      check(JSON.stringify(chart.labels) === JSON.stringify(cols.map(([c]) => c.label)), `${chart.title}: series ${chart.labels}`);
      check(JSON.stringify(chart.data[0]) === JSON.stringify(src.rows.map((r) => r.t)), `${chart.title}: x is the rows' t`);
      const scale = unit === 'bytes' ? 1 / 1048576 : 1;
      cols.forEach(([c, i], k) => {
        const expect = src.rows.map((r) => (r.values[i] === null || r.values[i] === undefined ? null : r.values[i] * scale));
        check(JSON.stringify(chart.data[k + 1]) === JSON.stringify(expect), `${chart.title} ${c.label}: ${chart.data[k + 1]} vs ${expect}`);
      });
      check(chart.x[0] === rpsX[0] && chart.x[1] === rpsX[1], `${chart.title}: x axis ${chart.x} aligned with requests/s ${rpsX}`);
    }
  }
  check(charts.length === want, `${charts.length} server charts, ${want} expected`);
  const hints = await page.$$eval('#hints li', (lis) => lis.map((li) => li.textContent));
  check(!(await page.isHidden('#hints')), 'the hints show by the verdict');
  check(JSON.stringify(hints) === JSON.stringify(server.hints), `hints ${hints}`);
  if (server.probe) {
    const probe = await page.textContent('#server-probe');
    check(probe.includes(`longest stall ${Math.round(server.probe.longest_stall_ms).toLocaleString('en-US')} ms`), `probe summary: ${probe}`);
    const stalls = await page.$$eval('#server-stalls li', (lis) => lis.map((li) => Number(li.getAttribute('data-at'))));
    check(stalls.length === server.probe.stalls.length, `stall moments listed: ${stalls}`);
  }
  const processes = server.sources.flatMap((src) => src.processes || []);
  const pids = await page.$$eval('#server-processes tbody tr', (trs) => trs.map((tr) => tr.children[1].textContent));
  check(JSON.stringify(pids) === JSON.stringify(processes.map((p) => String(p.pid))), `processes ${pids}`);
  const statements = server.sources.flatMap((src) => src.statements || []);
  const queries = await page.$$eval('#server-statements tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent));
  check(queries.length === statements.length, `${queries.length} statements shown`);
  check(queries[0] === statements.slice().sort((a, b) => b.total_ms - a.total_ms)[0].query, `most time first: ${queries[0]}`);
  // Text from the server (a process's command line, SQL) is text, never markup.
  const commands = await page.$$eval('#server-processes tbody tr', (trs) => trs.map((tr) => tr.children[3].textContent));
  check(JSON.stringify(commands) === JSON.stringify(processes.map((p) => p.command)), `commands shown as written: ${commands}`);
  check((await page.$$('#server-processes img, #server-statements img, #server-statements script')).length === 0, 'no markup from the server in the page');
  check(await page.evaluate(() => window.pwned === undefined), 'no script from the server ran');
  const lost = await page.$$eval('#server-lost li', (lis) => lis.map((li) => li.textContent));
  const wantLost = server.sources.filter((src) => src.lost).map((src) => `${src.name}: lost: ${src.lost}`);
  check(JSON.stringify(lost) === JSON.stringify(wantLost), `lost sources ${lost}`);
  console.log(`server OK: ${charts.length} charts, ${hints.length} hints`);
}
