// A capacity search in a real Chromium, opened from file:// as a reader would:
//
//   node web/tests/capacity.mjs report REPORT.html RESULT.json SCREENSHOT.png
//   node web/tests/capacity.mjs sweep SWEEP.html SWEEP.json SCREENSHOT.png
//
// report: the HTML report of a result with a `capacity` object shows, above the run, the
// conclusion in the words of its status, the capacity, bracket, concurrency and what failed
// first as the file has them, a steps table whose every row equals the file's step, the
// throughput-latency chart drawn (uPlot's data and painted pixels), the USL fit's curve
// following its formula, and text from the file (reasons, objectives) as text.
// sweep: the sweep page's bar chart, table (capacity, scaling against the first
// configuration, bracket, status, error) and one capacity block per configuration.
// Both: no console error and no request besides the file. Run by
// crates/barrage/tests/capacity_report.rs.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, check } from './browser.mjs';

const [kind, pagePath, jsonPath, screenshot] = process.argv.slice(2);
if (!screenshot || !['report', 'sweep'].includes(kind)) {
  console.error('usage: node web/tests/capacity.mjs report|sweep PAGE.html FILE.json SCREENSHOT.png');
  process.exit(2);
}
const doc = JSON.parse(readFileSync(jsonPath, 'utf8'));
const url = pathToFileURL(resolve(pagePath)).href;

// What each status must read as (the page's own words, held here so a change is seen).
const WORDS = {
  found: 'Capacity found',
  at_least: 'At least: the highest level asked for still passed, so the capacity is higher',
  start_fails: 'No capacity: the start level already failed',
  generator_limit: 'No capacity: the generator, not the service, was the limit',
  interrupted: 'Interrupted: the bracket found so far',
};

// Equal as JSON, whatever the order of keys (the result file's objects are written sorted).
const canonical = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]]))
  : x));
const same = (a, b) => canonical(a) === canonical(b);
// The series colours the charts are checked for (capacity.js: p99 and measured, failed, fit).
const BLUE = [9, 105, 218];
const RED = [207, 34, 46];
const PURPLE = [130, 80, 223];
const near = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

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

  await page.waitForSelector(kind === 'report' ? '#stats tr[data-endpoint="aggregate"] td[data-col="requests"][data-value]' : '#sweep-table tbody tr');
  // Taken first, so a failing check leaves the picture of what failed.
  await page.screenshot({ path: screenshot, fullPage: true });
  let summary;
  if (kind === 'report') {
    summary = await checkBlock(page, '#capacity-section', doc.capacity);
    // The verdict by the title is the search's: its exit status and conclusion, not the
    // gate of the totals (which cover the last step only).
    const exit = { found: 0, at_least: 0, start_fails: 3, generator_limit: 3, interrupted: 130 }[doc.capacity.status];
    const verdict = await page.$eval('#verdict', (v) => ({
      passed: v.getAttribute('data-passed'),
      exit: v.getAttribute('data-exit-code'),
      reason: v.querySelector('.reason').textContent,
    }));
    check(verdict.exit === String(exit) && verdict.passed === String(exit === 0), `verdict exit ${verdict.exit} for ${doc.capacity.status}`);
    check(verdict.reason === doc.capacity.message, `verdict reason: ${verdict.reason}`);
    const order = await page.evaluate(() => {
      const all = [...document.querySelectorAll('main > section')];
      return [all.indexOf(document.getElementById('capacity-section')), all.indexOf(document.getElementById('run-section'))];
    });
    check(order[0] === 0 && order[1] > 0, `the capacity section comes first in the page: ${order}`);
  } else {
    summary = await checkSweep(page, doc);
  }
  check(await page.evaluate(() => window.pwned === undefined), 'no script from the file ran');
  check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  const others = requests.filter((r) => r !== url);
  check(others.length === 0, `network requests besides the file: ${others.join(', ')}`);
  console.log(`${kind} OK: ${summary}, ${requests.length} request (the file)`);
} finally {
  await browser.close();
}

// Pixels of a chart's canvas painted in `rgb` (give or take antialiasing): a series that drew,
// told apart from the axes and grid, which are grey and black.
async function painted(page, selector, rgb) {
  return page.$eval(selector, (node, want) => {
    const canvas = node.querySelector('canvas');
    if (!canvas) {
      return 0;
    }
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const d = Math.abs(data[i] - want[0]) + Math.abs(data[i + 1] - want[1]) + Math.abs(data[i + 2] - want[2]);
      if (data[i + 3] > 200 && d < 40) {
        n += 1;
      }
    }
    return n;
  }, rgb);
}

// One capacity block (the report's section, or a sweep configuration's) against `cap`.
async function checkBlock(page, selector, cap) {
  check(cap, 'the file has a capacity object');
  check(!(await page.isHidden(selector)), `${selector} shows`);
  const shown = await page.$eval(selector, (box) => {
    const value = (cls) => {
      const n = box.querySelector(`.${cls}`);
      return n ? { value: JSON.parse(n.getAttribute('data-value')), text: n.textContent } : null;
    };
    return {
      status: box.querySelector('.capacity-conclusion').getAttribute('data-status'),
      words: box.querySelector('.capacity-status-words').textContent,
      message: box.querySelector('.capacity-message').textContent,
      rps: value('capacity-rps'),
      iterations: value('capacity-iterations'),
      bracket: value('capacity-bracket'),
      statusFact: value('capacity-status'),
      concurrency: value('capacity-concurrency'),
      firstFailed: value('capacity-first-failed'),
      stepsRun: value('capacity-steps-run'),
      usl: value('capacity-usl'),
      objectives: box.querySelector('.capacity-objectives').textContent,
    };
  });
  check(shown.status === cap.status, `status ${shown.status}, file ${cap.status}`);
  check(shown.words === WORDS[cap.status], `the ${cap.status} wording: "${shown.words}"`);
  check(shown.statusFact.text === WORDS[cap.status], `status fact: ${shown.statusFact.text}`);
  check(shown.message === cap.message, `message "${shown.message}"`);
  check(shown.rps.value === cap.rps, `capacity ${shown.rps.value}, file ${cap.rps}`);
  if (cap.rps !== null) {
    const digits = Number(cap.rps.toFixed(1)).toLocaleString('en-US', { maximumFractionDigits: 1 });
    check(shown.rps.text.includes(`${digits} requests/s`), `capacity text "${shown.rps.text}" shows ${digits}`);
    check(shown.rps.text.startsWith('at least') === (cap.status === 'at_least'), `"at least" only for at_least: ${shown.rps.text}`);
  } else {
    check(shown.rps.text === 'none', `no capacity reads none: ${shown.rps.text}`);
  }
  check(shown.iterations.value === cap.iterations_per_second, `iterations/s ${shown.iterations.value}`);
  check(same(shown.bracket.value, cap.bracket), `bracket ${JSON.stringify(shown.bracket.value)}`);
  check(shown.concurrency.value === cap.concurrency, `concurrency ${shown.concurrency.value}`);
  check(shown.firstFailed.value === cap.first_failed, `first failed ${shown.firstFailed.value}`);
  if (cap.first_failed) {
    check(shown.firstFailed.text === cap.first_failed, `first failed shown as written: ${shown.firstFailed.text}`);
  }
  check(same(shown.stepsRun.value, [cap.steps_run, cap.linear_ramp_steps]), `steps run ${shown.stepsRun.value}`);
  check(shown.objectives === cap.settings.objectives.join('; '), `objectives as written: ${shown.objectives}`);
  check(same(shown.usl.value, cap.usl), 'the USL fit as the file has it');

  // Every step's row equals the file's step.
  const rows = await page.$$eval(`${selector} table.capacity-steps tbody tr[data-index]`, (trs) => trs.map((tr) => {
    const cells = {};
    tr.querySelectorAll('td[data-col]').forEach((td) => {
      cells[td.getAttribute('data-col')] = JSON.parse(td.getAttribute('data-value'));
    });
    return {
      index: Number(tr.getAttribute('data-index')),
      cells,
      reasons: [...tr.querySelectorAll('td.reasons li')].map((li) => li.textContent),
      verdict: tr.querySelector('td[data-col="passed"]').textContent,
      markup: tr.querySelectorAll('td img, td script').length,
    };
  }));
  check(rows.length === cap.steps.length, `${rows.length} rows for ${cap.steps.length} steps`);
  const withServer = cap.steps.some((s) => s.server_cpu_percent !== null && s.server_cpu_percent !== undefined);
  const keys = ['index', 'phase', 'level', 'rps', 'iterations_per_second', 'p50_ms', 'p95_ms', 'p99_ms', 'error_rate',
    'dropped_iterations', 'latency_slope', 'generator_cpu_percent', 'schedule_lag_p99_ms', 'passed', 'reasons']
    .concat(withServer ? ['server_cpu_percent'] : []);
  cap.steps.forEach((s, k) => {
    const row = rows[k];
    check(row.index === s.index, `row ${k} is step ${s.index}`);
    for (const key of keys) {
      check(same(row.cells[key], s[key] === undefined ? null : s[key]), `step ${s.index} ${key}: page ${JSON.stringify(row.cells[key])}, file ${JSON.stringify(s[key])}`);
    }
    check(withServer === ('server_cpu_percent' in row.cells), `step ${s.index}: a server CPU column only when monitored`);
    check(same(row.reasons, s.reasons), `step ${s.index} reasons shown as written: ${row.reasons}`);
    check(row.markup === 0, `step ${s.index}: no markup from the file`);
    const verdict = s.passed ? 'pass' : s.generator_limited ? 'fail (generator limit)' : 'fail';
    check(row.verdict === verdict, `step ${s.index} verdict ${row.verdict}`);
  });

  // The throughput-latency chart: x the achieved requests/s ascending, p50/p95/p99, passed
  // and failed steps as separate markers; and it painted.
  const charts = await page.evaluate((sel) => {
    const d = window.barrageCapacity.charts.get(document.querySelector(sel));
    const pick = (c) => (c ? { series: c.series.map((s) => s.label), data: c.data } : null);
    return { curve: pick(d.curve), usl: pick(d.usl) };
  }, selector);
  const sorted = cap.steps.slice().sort((a, b) => a.rps - b.rps || a.index - b.index);
  check(same(charts.curve.series, ['requests/s', 'p50', 'p95', 'p99', 'passed step (p99)', 'failed step (p99)']), `curve series ${charts.curve.series}`);
  check(same(charts.curve.data[0], sorted.map((s) => s.rps)), 'curve x: every step\'s achieved requests/s');
  check(same(charts.curve.data[1], sorted.map((s) => s.p50_ms)), 'curve p50');
  check(same(charts.curve.data[2], sorted.map((s) => s.p95_ms)), 'curve p95');
  check(same(charts.curve.data[3], sorted.map((s) => s.p99_ms)), 'curve p99');
  check(same(charts.curve.data[4], sorted.map((s) => (s.passed ? s.p99_ms : null))), 'passed steps marked');
  check(same(charts.curve.data[5], sorted.map((s) => (s.passed ? null : s.p99_ms))), 'failed steps marked apart');
  const curvePixels = await painted(page, `${selector} .capacity-curve`, BLUE);
  check(curvePixels > 100, `the p99 line painted ${curvePixels} pixels`);
  if (cap.steps.some((s) => !s.passed)) {
    const failedPixels = await painted(page, `${selector} .capacity-curve`, RED);
    check(failedPixels > 20, `the failed steps' markers painted ${failedPixels} pixels`);
  }

  // The USL chart: every step's (concurrency, rps), and the fitted curve on its formula.
  const measured = charts.usl.data[0].map((x, i) => [x, charts.usl.data[1][i]]).filter(([, y]) => y !== null);
  const want = cap.steps.filter((s) => s.concurrency > 0).map((s) => [s.concurrency, s.rps]).sort((a, b) => a[0] - b[0]);
  check(same(measured, want), `USL measured points ${JSON.stringify(measured)}`);
  if (cap.usl) {
    const f = cap.usl;
    const x = charts.usl.data[0];
    const fitted = charts.usl.data[2];
    check(fitted.length === x.length && fitted.every((y) => y !== null), 'the fit drawn across the chart');
    x.forEach((n, i) => {
      const y = (f.lambda * n) / (1 + f.sigma * (n - 1) + f.kappa * n * (n - 1));
      check(near(fitted[i], y), `USL at ${n}: ${fitted[i]} vs ${y}`);
    });
    check(x[x.length - 1] >= Math.max(...want.map((p) => p[0])), 'the fit spans the measured points');
    const text = await page.textContent(`${selector} .capacity-usl`);
    check(text.includes(`r\u00b2 ${Number(f.r_squared.toFixed(3))}`), `USL text: ${text}`);
  } else {
    check(charts.usl.data[2].every((y) => y === null), 'no fitted curve without a fit');
  }
  const uslPixels = await painted(page, `${selector} .capacity-usl-chart`, BLUE);
  check(uslPixels > 20, `the USL chart's measured points painted ${uslPixels} pixels`);
  if (cap.usl) {
    const fitPixels = await painted(page, `${selector} .capacity-usl-chart`, PURPLE);
    check(fitPixels > 100, `the USL fit painted ${fitPixels} pixels`);
  }
  return `${cap.status}, ${rows.length} steps, curve ${curvePixels} px`;
}

async function checkSweep(page, sweep) {
  const entries = sweep.configurations;
  const label = (e) => Object.entries(e.values).map(([k, v]) => `${k}=${v}`).join(', ');
  // With `--model users` the sweep compares users, as the terminal does; an entry with an
  // error (a service that exited during its search) is compared by nothing.
  const ran = entries.find((e) => e.capacity);
  const byUsers = Boolean(ran) && ran.capacity.settings.model === 'users';
  const unit = byUsers ? 'users' : 'requests/s';
  const rps = (e) => {
    const x = e.capacity && !e.error ? (byUsers ? e.capacity.users : e.capacity.rps) : null;
    return x === undefined ? null : x;
  };
  const first = entries.find((e) => rps(e) !== null);
  const rows = await page.$$eval('#sweep-table tbody tr', (trs) => trs.map((tr) => {
    const cells = {};
    const texts = {};
    tr.querySelectorAll('td[data-col]').forEach((td) => {
      cells[td.getAttribute('data-col')] = JSON.parse(td.getAttribute('data-value'));
      texts[td.getAttribute('data-col')] = td.textContent;
    });
    return { config: Number(tr.getAttribute('data-config')), cells, texts };
  }));
  check(rows.length === entries.length, `${rows.length} rows for ${entries.length} configurations`);
  entries.forEach((e, i) => {
    const { cells, texts } = rows[i];
    check(rows[i].config === i, `row ${i} in order`);
    check(same(cells.values, e.values) && texts.values === label(e), `row ${i} values ${texts.values}`);
    check(cells.command === e.command && texts.command === e.command, `row ${i} command as written: ${texts.command}`);
    check(cells.capacity === rps(e), `row ${i} capacity ${cells.capacity} vs ${rps(e)}`);
    const figureOf = byUsers ? (e.capacity && e.capacity.users) : (e.capacity && e.capacity.rps);
    if (figureOf !== null && figureOf !== undefined) {
      check(texts.capacity.endsWith(` ${unit}`), `row ${i} capacity in ${unit}: ${texts.capacity}`);
    }
    const ratio = rps(e) === null ? null : rps(e) / rps(first);
    check(ratio === null ? cells.scaling === null : near(cells.scaling, ratio), `row ${i} scaling ${cells.scaling} vs ${ratio}`);
    if (i === entries.indexOf(first)) {
      check(texts.scaling === '1x', `the first configuration scales 1x: ${texts.scaling}`);
    }
    check(same(cells.bracket, e.capacity ? e.capacity.bracket : null), `row ${i} bracket`);
    check(cells.status === (e.capacity ? e.capacity.status : null), `row ${i} status`);
    check(texts.status === (e.capacity ? WORDS[e.capacity.status] : 'did not run'), `row ${i} status words: ${texts.status}`);
    check(cells.log === e.log, `row ${i} log`);
    check(cells.error === (e.error || null) && texts.error === (e.error || ''), `row ${i} error ${texts.error}`);
  });
  const bars = await page.evaluate(() => {
    const c = window.barrageCapacity.sweep.chart;
    return { series: c.series.length, data: c.data, label: c.series[1].label };
  });
  check(bars.series === 2, `bar chart series ${bars.series}`);
  check(bars.label === `capacity ${unit}`, `the bars are labelled in ${unit}: ${bars.label}`);
  check(same(bars.data[0], entries.map((_, i) => i)), 'a bar per configuration');
  check(same(bars.data[1], entries.map(rps)), `bars are the capacities: ${bars.data[1]}`);
  const barPixels = await painted(page, '#chart-sweep', BLUE);
  check(barPixels > 100, `the bars' outlines painted ${barPixels} pixels`);
  let blocks = 0;
  for (const [i, e] of entries.entries()) {
    const sel = `section.sweep-config[data-config="${i}"]`;
    if (!e.capacity) {
      check((await page.$(sel)) === null, `no block for configuration ${i}, which did not run`);
      continue;
    }
    blocks += 1;
    const heading = await page.textContent(`${sel} h2`);
    check(heading.startsWith(label(e)), `block ${i} titled ${heading}`);
    await checkBlock(page, sel, e.capacity);
  }
  return `${rows.length} configurations, ${blocks} curves, bars ${barPixels} px`;
}
