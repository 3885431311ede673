// What a capacity search found (`barrage capacity`; the result file's `capacity` object, see
// crates/barrage-metrics/src/capacity.rs), drawn into a container: the conclusion, the
// throughput-latency curve of every step, the Universal Scalability Law fit and the steps
// table. The report draws one near its top (app.js calls `barrageCapacity.draw`); the sweep
// page (a `<script type="application/json" id="barrage-sweep">` in the page) draws one per
// configuration under a chart and a table of the capacity of each.
//
// Kept apart from app.js because the sweep page has no run View to draw: it loads uPlot,
// dom.js and this file only. Numbers go into `data-value` attributes as the file has them
// (the tests compare those), text (objectives, reasons, commands) only through textContent.
(function () {
  'use strict';

  const { el, clear, fmt, chartWidth } = window.barrageDom;

  const P50 = '#1b7c83';
  const P95 = '#bf8700';
  const P99 = '#0969da';
  const PASS = '#1a7f37';
  const FAIL = '#cf222e';
  const FIT = '#8250df';
  const HEIGHT = 280;

  // How each way a search can end reads; the status is also the block's `data-status`.
  const STATUS_WORDS = {
    found: 'Capacity found',
    at_least: 'At least: the highest level asked for still passed, so the capacity is higher',
    start_fails: 'No capacity: the start level already failed',
    generator_limit: 'No capacity: the generator, not the service, was the limit',
    interrupted: 'Interrupted: the bracket found so far',
    incomplete: "Incomplete: the search's step or time limit came before a failing level",
  };

  // uPlot charts by container, so a redraw or a resize finds them: { curve, usl }.
  const charts = new Map();

  function unitOf(cap) {
    return cap.settings && cap.settings.model === 'users' ? 'users' : 'iterations/s';
  }

  function statusWords(status) {
    return STATUS_WORDS[status] || String(status);
  }

  // A figure with its value as the file has it, for the tests and for copying.
  function figure(tag, cls, value, text) {
    return el(tag, { class: cls, 'data-value': JSON.stringify(value === undefined ? null : value) }, text);
  }

  function bracketText(cap) {
    const unit = unitOf(cap);
    const b = cap.bracket || {};
    const passed = b.passed === null || b.passed === undefined ? 'none passed' : `${fmt(b.passed, 2)} ${unit} passed`;
    const failed = b.failed === null || b.failed === undefined ? 'none failed' : `${fmt(b.failed, 2)} ${unit} failed`;
    return `${passed}, ${failed}`;
  }

  // The capacity in requests/s as read at a glance: "at least" when the search never failed.
  function capacityText(cap) {
    if (cap.rps === null || cap.rps === undefined) {
      return 'none';
    }
    const prefix = cap.status === 'at_least' ? 'at least ' : '';
    return `${prefix}${fmt(cap.rps, 1)} requests/s`;
  }

  function facts(cap) {
    const s = cap.settings || {};
    const dl = el('dl', { class: 'capacity-facts' });
    const add = (label, node) => {
      dl.appendChild(el('dt', null, label));
      dl.appendChild(node);
    };
    add('Capacity', figure('dd', 'capacity-rps', cap.rps, capacityText(cap)));
    add('Iterations', figure('dd', 'capacity-iterations', cap.iterations_per_second,
      cap.iterations_per_second === null || cap.iterations_per_second === undefined ? 'none' : `${fmt(cap.iterations_per_second, 1)} iterations/s`));
    if (cap.users !== null && cap.users !== undefined) {
      add('Users', figure('dd', 'capacity-users', cap.users, `${fmt(cap.users, 0)} users`));
    }
    add('Bracket', figure('dd', 'capacity-bracket', cap.bracket, bracketText(cap)));
    add('Status', figure('dd', 'capacity-status', cap.status, statusWords(cap.status)));
    add('Concurrency', figure('dd', 'capacity-concurrency', cap.concurrency,
      cap.concurrency === null || cap.concurrency === undefined ? '-' : `${fmt(cap.concurrency, 1)} requests in service at once (Little's law: requests/s x mean response time)`));
    add('Failed first', figure('dd', 'capacity-first-failed', cap.first_failed, cap.first_failed || 'nothing failed'));
    const ramp = cap.linear_ramp_steps === null || cap.linear_ramp_steps === undefined
      ? `${fmt(cap.steps_run, 0)} steps run`
      : `${fmt(cap.steps_run, 0)} steps run; a linear ramp from the start in steps of ${fmt(100 * (s.precision || 0), 1)} % of the capacity would have run ${fmt(cap.linear_ramp_steps, 0)}`;
    add('Steps', figure('dd', 'capacity-steps-run', [cap.steps_run, cap.linear_ramp_steps], ramp));
    add('Objectives', el('dd', { class: 'capacity-objectives' }, (s.objectives || []).join('; ') || 'none'));
    add('Search', el('dd', { class: 'capacity-settings' },
      `${s.model === 'users' ? 'most users (closed model)' : `highest rate (open model, ${s.arrivals || 'even'} arrivals)`}, `
      + `from ${fmt(s.start, 2)} up to ${fmt(s.max, 2)} ${unitOf(cap)}, precision ${fmt(100 * (s.precision || 0), 1)} %, `
      + `${fmt(s.warmup_s, 1)} s warm-up then ${fmt(s.step_s, 1)} s judged per step`));
    return dl;
  }

  // Explicit ranges, a little past the data: steps past the capacity all achieve about the
  // same requests/s, and uPlot, which finds the points to draw and to range over by
  // searching x, would leave out all but one of equal x values at the edge of the range.
  function padded(values, log) {
    const xs = values.filter((v) => v !== null && Number.isFinite(v) && (!log || v > 0));
    if (xs.length === 0) {
      return log ? [1, 10] : [0, 1];
    }
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    if (log) {
      return [Math.pow(10, Math.floor(Math.log10(lo))), Math.pow(10, Math.ceil(Math.log10(hi * 1.001)))];
    }
    const pad = (hi - lo || Math.abs(hi) || 1) * 0.05;
    return [lo - pad, hi + pad];
  }

  // ---- the throughput-latency curve ---------------------------------------------------------

  // Every step by achieved requests/s (uPlot wants x ascending; a step that fell behind its
  // level sits left of where it was asked), latency lines, and the verdict of each step as a
  // marker on its p99: filled green passed, red failed.
  function curveData(steps) {
    const sorted = steps.slice().sort((a, b) => a.rps - b.rps || a.index - b.index);
    return [
      sorted.map((s) => s.rps),
      sorted.map((s) => s.p50_ms),
      sorted.map((s) => s.p95_ms),
      sorted.map((s) => s.p99_ms),
      sorted.map((s) => (s.passed ? s.p99_ms : null)),
      sorted.map((s) => (s.passed ? null : s.p99_ms)),
      sorted.map((s) => s.index),
    ];
  }

  function curveChart(node, steps) {
    const data = curveData(steps);
    const line = (label, stroke) => ({ label, stroke, width: 1.5, points: { show: true, size: 4 } });
    const marker = (label, color) => ({ label, stroke: color, width: 0, points: { show: true, size: 10, fill: color, stroke: color } });
    // Past the capacity latency grows by orders of magnitude; on a log axis the steps that
    // passed stay readable beside those that failed.
    const ys = data.slice(1, 4).flat();
    const log = ys.every((v) => v > 0) && Math.max(...ys) / Math.min(...ys) > 50;
    return new uPlot({
      width: chartWidth(node),
      height: HEIGHT,
      scales: {
        x: { time: false, range: () => padded(data[0], false) },
        y: { distr: log ? 3 : 1, range: () => (log ? padded(ys, true) : [0, padded(ys, false)[1]]) },
      },
      axes: [{ label: 'achieved requests/s' }, { label: log ? 'ms (log)' : 'ms', size: 60 }],
      series: [
        { label: 'requests/s', value: (u, v) => fmt(v, 1) },
        line('p50', P50),
        line('p95', P95),
        line('p99', P99),
        marker('passed step (p99)', PASS),
        marker('failed step (p99)', FAIL),
      ],
      legend: { live: true },
    }, data.slice(0, 6), node);
  }

  // ---- the Universal Scalability Law fit ----------------------------------------------------

  function usl(fit, n) {
    return (fit.lambda * n) / (1 + fit.sigma * (n - 1) + fit.kappa * n * (n - 1));
  }

  // The fitted curve sampled over the measured concurrency (and its peak when near), with
  // every measured step in the same x array, so the curve passes by each point.
  function uslData(steps, fit) {
    const measured = steps.filter((s) => Number.isFinite(s.concurrency) && s.concurrency > 0);
    if (measured.length === 0) {
      return null;
    }
    const lo = Math.min(...measured.map((s) => s.concurrency));
    let hi = Math.max(...measured.map((s) => s.concurrency));
    if (fit && fit.peak_concurrency && fit.peak_concurrency > hi && fit.peak_concurrency < 2 * hi) {
      hi = fit.peak_concurrency;
    }
    const log = hi / lo > 100;
    const rows = measured.map((s) => ({ x: s.concurrency, rps: s.rps }));
    if (fit) {
      const n = 60;
      const from = log ? lo : 0;
      for (let k = 0; k <= n; k++) {
        const x = log ? lo * Math.pow(hi / lo, k / n) : from + ((hi * 1.05 - from) * k) / n;
        rows.push({ x, rps: null });
      }
    }
    rows.sort((a, b) => a.x - b.x);
    return {
      log,
      data: [
        rows.map((r) => r.x),
        rows.map((r) => r.rps),
        rows.map((r) => (fit ? usl(fit, r.x) : null)),
      ],
    };
  }

  function uslText(cap) {
    const f = cap.usl;
    if (!f) {
      return 'No fit: it needs three or more steps of different concurrency.';
    }
    const peak = f.peak_concurrency === null || f.peak_concurrency === undefined
      ? 'no peak (coherency 0: throughput levels off without falling)'
      : `peak ${fmt(f.peak_rps, 1)} requests/s at ${fmt(f.peak_concurrency, 1)} in service`;
    return `X(N) = \u03bbN / (1 + \u03c3(N - 1) + \u03baN(N - 1)): \u03bb ${fmt(f.lambda, 3)} requests/s, `
      + `contention \u03c3 ${fmt(f.sigma, 5)}, coherency \u03ba ${fmt(f.kappa, 7)}, r\u00b2 ${fmt(f.r_squared, 3)} over ${fmt(f.points, 0)} steps; ${peak}.`;
  }

  function uslChart(node, steps, fit) {
    const d = uslData(steps, fit);
    if (!d) {
      return null;
    }
    return new uPlot({
      width: chartWidth(node),
      height: HEIGHT,
      scales: {
        x: { time: false, distr: d.log ? 3 : 1, range: () => (d.log ? padded(d.data[0], true) : [0, padded(d.data[0], false)[1]]) },
        y: { range: () => [0, padded(d.data[1].concat(d.data[2]), false)[1]] },
      },
      axes: [{ label: d.log ? 'requests in service (log)' : 'requests in service' }, { label: 'requests/s', size: 60 }],
      series: [
        { label: 'in service', value: (u, v) => fmt(v, 2) },
        { label: 'measured step', stroke: P99, width: 0, points: { show: true, size: 8, fill: P99 } },
        { label: 'USL fit', stroke: FIT, width: 2, spanGaps: true, points: { show: false } },
      ],
      legend: { live: true },
    }, d.data, node);
  }

  // ---- the steps table -----------------------------------------------------------------------

  function slopeText(s) {
    if (!s) {
      return '-';
    }
    const sign = s.slope > 0 ? '+' : '';
    return `${sign}${fmt(s.slope, 3)} [${fmt(s.low, 3)}, ${fmt(s.high, 3)}]`;
  }

  function stepsTable(cap) {
    const steps = cap.steps || [];
    const withServer = steps.some((s) => s.server_cpu_percent !== null && s.server_cpu_percent !== undefined);
    const cols = [
      ['index', '#', (s) => s.index, (v) => fmt(v, 0)],
      ['phase', 'Phase', (s) => s.phase, (v) => v || '-'],
      ['level', `Level (${unitOf(cap)})`, (s) => s.level, (v) => fmt(v, 2)],
      ['rps', 'Achieved req/s', (s) => s.rps, (v) => fmt(v, 1)],
      ['iterations_per_second', 'Iterations/s', (s) => s.iterations_per_second, (v) => fmt(v, 1)],
      ['p50_ms', 'p50 ms', (s) => s.p50_ms, (v) => fmt(v, 2)],
      ['p95_ms', 'p95 ms', (s) => s.p95_ms, (v) => fmt(v, 2)],
      ['p99_ms', 'p99 ms', (s) => s.p99_ms, (v) => fmt(v, 2)],
      ['error_rate', 'Errors', (s) => s.error_rate, (v) => `${fmt(100 * v, 2)}%`],
      ['dropped_iterations', 'Dropped', (s) => s.dropped_iterations, (v) => fmt(v, 0)],
      ['latency_slope', 'p50 slope ms/s [95 %]', (s) => s.latency_slope, slopeText],
    ];
    if (withServer) {
      cols.push(['server_cpu_percent', 'Server CPU %', (s) => s.server_cpu_percent, (v) => fmt(v, 0)]);
    }
    cols.push(
      ['generator_cpu_percent', 'Generator CPU %', (s) => s.generator_cpu_percent, (v) => fmt(v, 0)],
      ['schedule_lag_p99_ms', 'Schedule lag p99 ms', (s) => s.schedule_lag_p99_ms, (v) => fmt(v, 3)],
      ['passed', 'Verdict', (s) => s.passed, null],
      ['reasons', 'Why it failed', (s) => s.reasons, null],
    );
    // No height limit (the statistics table's): a search runs tens of steps, not thousands.
    const wrap = el('div', { class: 'capacity-steps-wrap' });
    const table = wrap.appendChild(el('table', { class: 'capacity-steps' }));
    const head = table.appendChild(el('thead')).appendChild(el('tr'));
    cols.forEach(([, label]) => head.appendChild(el('th', null, label)));
    const body = table.appendChild(el('tbody'));
    for (const s of steps) {
      const tr = el('tr', { 'data-index': String(s.index), 'data-passed': String(s.passed) });
      for (const [key, , get, show] of cols) {
        const v = get(s);
        const td = el('td', { 'data-col': key, 'data-value': JSON.stringify(v === undefined ? null : v) });
        if (key === 'passed') {
          td.textContent = s.passed ? 'pass' : (s.generator_limited ? 'fail (generator limit)' : (s.disturbed ? 'disturbed, run again' : 'fail'));
          td.className = s.passed ? 'verdict-better' : 'verdict-worse';
        } else if (key === 'reasons') {
          td.className = 'reasons';
          if (v && v.length) {
            const ul = td.appendChild(el('ul'));
            v.forEach((r) => ul.appendChild(el('li', null, r)));
          }
        } else {
          td.textContent = v === null || v === undefined ? '-' : show(v);
        }
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    if (steps.length === 0) {
      body.appendChild(el('tr')).appendChild(el('td', { colspan: String(cols.length), class: 'note' }, 'no step ran'));
    }
    return wrap;
  }

  // ---- the block -----------------------------------------------------------------------------

  // Draws `cap` into `container` (emptied first). `heading` is its title (an <h2>).
  function draw(container, cap, heading) {
    const old = charts.get(container);
    if (old) {
      Object.values(old).forEach((c) => c && c.destroy());
      charts.delete(container);
    }
    clear(container);
    container.setAttribute('data-status', cap.status);
    if (heading) {
      container.appendChild(el('h2', null, heading));
    }
    const conclusion = container.appendChild(el('div', { class: 'capacity-conclusion', 'data-status': cap.status }));
    conclusion.appendChild(el('p', { class: 'capacity-status-words' }, statusWords(cap.status)));
    conclusion.appendChild(el('p', { class: 'capacity-message' }, cap.message));
    container.appendChild(facts(cap));

    const boxes = container.appendChild(el('div', { class: 'charts' }));
    const curveBox = boxes.appendChild(el('div', { class: 'chart-box' }));
    curveBox.appendChild(el('h3', null, 'Throughput and latency of every step'));
    const curveNode = curveBox.appendChild(el('div', { class: 'chart capacity-curve' }));
    const uslBox = boxes.appendChild(el('div', { class: 'chart-box' }));
    uslBox.appendChild(el('h3', null, 'Throughput against concurrency: Universal Scalability Law fit'));
    uslBox.appendChild(figure('p', 'note capacity-usl', cap.usl, uslText(cap)));
    const uslNode = uslBox.appendChild(el('div', { class: 'chart capacity-usl-chart' }));
    container.appendChild(el('h3', null, 'Steps'));
    container.appendChild(stepsTable(cap));

    const steps = cap.steps || [];
    const drawn = {
      curve: steps.length ? curveChart(curveNode, steps) : null,
      usl: uslChart(uslNode, steps, cap.usl),
    };
    drawn.curveNode = curveNode;
    drawn.uslNode = uslNode;
    charts.set(container, drawn);
    return drawn;
  }

  window.addEventListener('resize', () => {
    for (const d of charts.values()) {
      if (d.curve) {
        d.curve.setSize({ width: chartWidth(d.curveNode), height: HEIGHT });
      }
      if (d.usl) {
        d.usl.setSize({ width: chartWidth(d.uslNode), height: HEIGHT });
      }
    }
  });

  // ---- the sweep page --------------------------------------------------------------------------

  function configLabel(entry) {
    const parts = Object.entries(entry.values || {}).map(([k, v]) => `${k}=${v}`);
    return parts.length ? parts.join(', ') : entry.command;
  }

  // The sweep's model: every configuration's search has the same settings, so the first
  // that ran says it. With `--model users` configurations are compared by users, as the
  // terminal's table does.
  function sweepByUsers(entries) {
    const ran = entries.find((x) => x.capacity && x.capacity.settings);
    return Boolean(ran) && ran.capacity.settings.model === 'users';
  }

  // The figure a configuration is compared by; none when its entry has an error (a service
  // that exited during its search: its figures describe a service that went away).
  function capacityOf(entry, byUsers) {
    const c = entry.capacity;
    if (!c || entry.error) {
      return null;
    }
    const x = byUsers ? c.users : c.rps;
    return x !== null && x !== undefined ? x : null;
  }

  function sweepCapacityText(c, byUsers) {
    if (!byUsers) {
      return capacityText(c);
    }
    if (c.users === null || c.users === undefined) {
      return 'none';
    }
    return `${c.status === 'at_least' ? 'at least ' : ''}${fmt(c.users, 0)} users`;
  }

  // The bar chart of the capacity per configuration: x is the configuration's position,
  // labelled with its values.
  function sweepChart(node, entries, byUsers) {
    const unit = byUsers ? 'users' : 'requests/s';
    const labels = entries.map(configLabel);
    const xs = entries.map((_, i) => i);
    return new uPlot({
      width: chartWidth(node),
      height: HEIGHT,
      scales: { x: { time: false, range: () => [-0.5, entries.length - 0.5] }, y: { range: (u, lo, hi) => [0, (hi || 1) * 1.1] } },
      axes: [
        { label: 'configuration', splits: () => xs, values: (u, ticks) => ticks.map((t) => labels[t] || '') },
        { label: `capacity, ${unit}`, size: 70 },
      ],
      series: [
        { label: 'configuration', value: (u, v) => (v === null || v === undefined ? '-' : labels[v]) },
        { label: `capacity ${unit}`, stroke: P99, fill: 'rgba(9, 105, 218, 0.35)', width: 1, paths: uPlot.paths.bars({ size: [0.6, 120] }), points: { show: false } },
      ],
      legend: { live: true },
    }, [xs, entries.map((x) => capacityOf(x, byUsers))], node);
  }

  function drawSweep(doc) {
    const $ = (id) => document.getElementById(id);
    const entries = doc.configurations || [];
    $('sweep-title').textContent = doc.scenario_file ? `of ${doc.scenario_file}` : '';
    $('sweep-serve').textContent = doc.serve;
    $('tool-version').textContent = doc.tool_version;
    $('sweep-interrupted').hidden = !doc.interrupted;
    const byUsers = sweepByUsers(entries);
    const first = entries.findIndex((x) => capacityOf(x, byUsers) !== null);
    $('sweep-scaling-note').textContent = first < 0
      ? 'No configuration found a capacity, so there is no scaling to show.'
      : `Scaling: each capacity divided by that of ${configLabel(entries[first])}${first > 0 ? ' (the first configuration that found one)' : ' (the first configuration)'}.`;
    const body = document.querySelector('#sweep-table tbody');
    clear(body);
    const curves = $('sweep-curves');
    const blocks = [];
    entries.forEach((x, i) => {
      const c = x.capacity;
      const measured = capacityOf(x, byUsers);
      const ratio = measured !== null && first >= 0 ? measured / capacityOf(entries[first], byUsers) : null;
      const tr = body.appendChild(el('tr', { 'data-config': String(i), 'data-status': c ? c.status : 'error' }));
      const cell = (col, value, text) => tr.appendChild(el('td', { 'data-col': col, 'data-value': JSON.stringify(value === undefined ? null : value) }, text));
      cell('values', x.values, configLabel(x));
      cell('command', x.command, x.command);
      cell('capacity', measured, c ? sweepCapacityText(c, byUsers) : '-');
      cell('scaling', ratio, ratio === null ? '-' : `${fmt(ratio, 2)}x`);
      cell('bracket', c ? c.bracket : null, c ? bracketText(c) : '-');
      cell('status', c ? c.status : null, c ? statusWords(c.status) : 'did not run');
      cell('log', x.log, x.log);
      cell('error', x.error || null, x.error || '');
      if (c) {
        const block = curves.appendChild(el('section', { class: 'capacity sweep-config', 'data-config': String(i) }));
        blocks.push([block, c, `${configLabel(x)}: ${sweepCapacityText(c, byUsers)}`]);
      }
    });
    const chart = sweepChart($('chart-sweep'), entries, byUsers);
    window.addEventListener('resize', () => chart.setSize({ width: chartWidth($('chart-sweep')), height: HEIGHT }));
    const drawnBlocks = blocks.map(([block, c, heading]) => draw(block, c, heading));
    window.barrageCapacity.sweep = { chart, blocks: drawnBlocks };
  }

  window.barrageCapacity = { draw, charts, statusWords, usl };

  function start() {
    const embedded = document.getElementById('barrage-sweep');
    if (embedded) {
      drawSweep(JSON.parse(embedded.textContent));
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
