// barrage's page: draws a View (crates/barrage-web/src/view.rs) in two modes.
//
// - report: the View is embedded in the file (<script id="barrage-view">); nothing is fetched.
// - live: the View comes from GET /api/view, then each closed second from the server-sent
//   event `second` as a delta (series, windows and the monitored server's rows appended,
//   everything else replaced).
//
// Plain JavaScript on purpose (no framework, no bundler): the report must open offline from
// one file, and the page stays small enough to read. Every chart is a uPlot, created once and
// fed with setData; the statistics table keeps one row per endpoint and touches only the
// cells whose value changed, so 2,000 endpoints updating every second stay cheap. Text from
// the run (endpoint names come from users' files) only ever goes through textContent.
//
// Loaded after dom.js (the helpers shared with the sweep page) and capacity.js (a capacity
// search's section, drawn here when the View carries one).
(function () {
  'use strict';

  const DEFAULT_QUANTILES = ['p50', 'p75', 'p90', 'p95', 'p99', 'p99.9', 'max'];
  const RUN_COLOR = '#0969da';
  const FAIL_COLOR = '#cf222e';
  const BASE_COLOR = 'rgba(140, 149, 159, 0.55)';
  const INFLIGHT_COLOR = '#8250df';

  const $ = (id) => document.getElementById(id);
  const barrage = { view: null, charts: {} };
  window.barrage = barrage;

  // Rows of table#stats by endpoint key ("0", "1", ..., "aggregate"): { tr, cells }.
  const rows = new Map();
  // The View's endpoint count when the endpoint pickers were last built.
  let pickerSize = -1;
  let liveDistribution = null;
  let lastDistributionFetch = 0;

  // The DOM helpers and number formats the capacity page shares (dom.js).
  const { el, setText, clear, fmt, chartWidth } = window.barrageDom;

  function endpointName(e) {
    return e.method ? `${e.method} ${e.name}` : e.name;
  }

  // ---- charts -------------------------------------------------------------------------------

  // Draws the timeline (load changes, resets, stops) as dashed vertical lines.
  function marksPlugin() {
    return {
      hooks: {
        draw: [
          (u) => {
            const view = barrage.view;
            if (!view || !view.timeline || view.timeline.length === 0) {
              return;
            }
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = '#bf8700';
            ctx.setLineDash([5, 4]);
            ctx.lineWidth = 1.5 * (window.devicePixelRatio || 1);
            for (const m of view.timeline) {
              const x = u.valToPos(m.at_s, 'x', true);
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) {
                continue;
              }
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  function timeChart(node, yLabel, series, extraScales, extraPlugins) {
    const opts = {
      width: chartWidth(node),
      height: 260,
      scales: Object.assign({ x: { time: false } }, extraScales || {}),
      axes: [
        { label: 'seconds since the start' },
        { label: yLabel, size: 60 },
      ],
      series: [{ label: 's' }].concat(series),
      plugins: [marksPlugin()].concat(extraPlugins || []),
      legend: { live: true },
    };
    return new uPlot(opts, [[]].concat(series.map(() => [])), node);
  }

  function createCharts() {
    const c = barrage.charts;
    c.rps = timeChart($('chart-rps'), 'per second', [
      { label: 'requests/s', stroke: RUN_COLOR, width: 1.5 },
      { label: 'failures/s', stroke: FAIL_COLOR, width: 1.5 },
      { label: 'baseline requests/s', stroke: BASE_COLOR, width: 1, show: false },
      { label: 'baseline failures/s', stroke: BASE_COLOR, width: 1, dash: [4, 4], show: false },
    ]);
    c.latency = timeChart($('chart-latency'), 'ms', [
      { label: 'p50', stroke: RUN_COLOR, width: 2, points: { show: true, size: 4 } },
      { label: 'open window (provisional)', stroke: RUN_COLOR, width: 0, points: { show: true, size: 8, fill: '#fff' } },
      { label: 'baseline', stroke: BASE_COLOR, width: 1.5, show: false },
    ]);
    c.users = timeChart($('chart-users'), 'users / requests', [
      { label: 'users', stroke: RUN_COLOR, width: 1.5 },
      { label: 'in flight', stroke: INFLIGHT_COLOR, width: 1 },
      { label: 'baseline users', stroke: BASE_COLOR, width: 1, show: false },
    ]);
    const dist = $('chart-distribution');
    c.distribution = new uPlot({
      width: chartWidth(dist),
      height: 260,
      scales: { x: { time: false, distr: 3, range: () => [1, 1e6] }, y: { distr: 3 } },
      axes: [
        {
          label: 'percentile',
          // One tick per nine: 0, 90, 99, 99.9, ... and max.
          splits: () => Object.keys(SPECTRUM_TICKS).map(Number),
          values: (u, ticks) => ticks.map((x) => SPECTRUM_TICKS[x] || ''),
        },
        { label: 'ms (log)', size: 60 },
      ],
      series: [
        { label: 'percentile', value: (u, v) => (v == null ? '-' : percentileLabel(v)) },
        { label: 'response time ms', stroke: RUN_COLOR, width: 2, points: { show: true, size: 4 } },
      ],
      legend: { live: true },
    }, [[], []], dist);
    window.addEventListener('resize', () => {
      for (const [name, chart] of Object.entries(c)) {
        const node = $(`chart-${name}`);
        chart.setSize({ width: chartWidth(node), height: 260 });
      }
    });
  }

  // The spectrum's x axis: 1 / (1 - p), so 90, 99, 99.9 ... are evenly spaced on a log
  // scale (HdrHistogram's plot). 100 % would be infinite; it is drawn one decade past 99.999.
  function percentileX(p) {
    return p >= 100 ? 1e6 : 1 / (1 - p / 100);
  }

  const SPECTRUM_TICKS = {
    1: '0%', 10: '90%', 100: '99%', 1e3: '99.9%', 1e4: '99.99%', 1e5: '99.999%', 1e6: 'max',
  };

  function percentileLabel(x) {
    if (x >= 1e6) {
      return 'max';
    }
    const p = 100 * (1 - 1 / x);
    return `${Number(p.toPrecision(6))}%`;
  }

  function drawTimeCharts(view) {
    const c = barrage.charts;
    const s = view.series;
    const b = view.baseline ? view.baseline.series : null;
    c.rps.setData(
      b ? uPlot.join([[s.t, s.rps, s.failures_per_s], [b.t, b.rps, b.failures_per_s]])
        : [s.t, s.rps, s.failures_per_s, s.t.map(() => null), s.t.map(() => null)],
    );
    const inFlight = s.in_flight.length === s.t.length ? s.in_flight : s.t.map(() => null);
    c.users.setData(
      b ? uPlot.join([[s.t, s.users, inFlight], [b.t, b.users]])
        : [s.t, s.users, inFlight, s.t.map(() => null)],
    );
    if (b) {
      showSeries(c.rps, [3, 4]);
      showSeries(c.users, [3]);
    }
    drawLatency(view);
  }

  function showSeries(chart, indices) {
    for (const i of indices) {
      if (!chart.series[i].show) {
        chart.setSeries(i, { show: true });
      }
    }
  }

  // The values of quantile `q` over the windows for `endpoint` ("aggregate" or an index).
  function windowValues(windows, q, endpoint) {
    if (endpoint === 'aggregate') {
      return windows.aggregate[q] || [];
    }
    const e = windows.endpoints.find((x) => String(x.i) === endpoint);
    return e ? e.values[q] : windows.t.map(() => null);
  }

  function drawLatency(view) {
    const chart = barrage.charts.latency;
    const w = view.windows;
    const q = Math.max(0, $('quantile').selectedIndex);
    const label = (w.quantiles && w.quantiles[q]) || DEFAULT_QUANTILES[q];
    const endpoint = $('latency-endpoint').value || 'aggregate';
    const t = w.t.slice();
    const values = windowValues(w, q, endpoint).slice();
    const open = values.map(() => null);
    if (w.open && endpoint === 'aggregate' && w.open.t > (t.length ? t[t.length - 1] : 0)) {
      t.push(w.open.t);
      values.push(null);
      open.push(w.open.values[q]);
    }
    $('latency-empty').hidden = w.t.length > 0;
    if (chart.series[1].label !== label) {
      // The legend's label follows the picker; uPlot keeps labels in its series objects.
      chart.series[1].label = label;
      const legendLabel = chart.root.querySelectorAll('.u-legend .u-series .u-label')[1];
      if (legendLabel) {
        legendLabel.textContent = label;
      }
    }
    const base = view.baseline ? view.baseline.windows : null;
    if (base && base.t.length > 0) {
      chart.setData(uPlot.join([[t, values, open], [base.t, windowValues(base, q, baselineEndpoint(view, endpoint))]]));
      showSeries(chart, [3]);
    } else {
      chart.setData([t, values, open, t.map(() => null)]);
    }
    alignTimeAxes(view);
  }

  // The baseline's index of this run's endpoint `endpoint` (matched by scenario, method, name).
  function baselineEndpoint(view, endpoint) {
    if (endpoint === 'aggregate') {
      return 'aggregate';
    }
    const e = view.endpoints[Number(endpoint)];
    const j = view.baseline.endpoints.findIndex(
      (b) => b.scenario === e.scenario && b.method === e.method && b.name === e.name,
    );
    return j < 0 ? 'none' : String(j);
  }

  function drawDistribution(view) {
    const endpoint = $('distribution-endpoint').value || 'aggregate';
    let spectrum = null;
    if (view.mode === 'report') {
      spectrum = view.spectra.find((s) => (s.i === null ? 'aggregate' : String(s.i)) === endpoint);
    } else {
      spectrum = liveDistribution && liveDistribution.endpoint === endpoint ? liveDistribution.spectrum : null;
      // Before the start there is no run to ask about.
      if (view.state !== 'ready') {
        fetchDistribution(endpoint, false);
      }
    }
    const points = spectrum ? spectrum.points : [];
    $('distribution-empty').hidden = points.length > 0;
    barrage.charts.distribution.setData([points.map((p) => percentileX(p[0])), points.map((p) => p[1])]);
  }

  function fetchDistribution(endpoint, force) {
    const now = Date.now();
    if (!force && now - lastDistributionFetch < 5000) {
      return;
    }
    lastDistributionFetch = now;
    fetch(`/api/distribution?endpoint=${encodeURIComponent(endpoint)}`)
      .then((r) => (r.ok ? r.json() : null))
      .then((spectrum) => {
        // An answer for an endpoint no longer picked (the picker changed while it was on its
        // way) is not drawn.
        if (spectrum && endpoint === ($('distribution-endpoint').value || 'aggregate')) {
          liveDistribution = { endpoint, spectrum };
          const points = spectrum.points || [];
          $('distribution-empty').hidden = points.length > 0;
          barrage.charts.distribution.setData([points.map((p) => percentileX(p[0])), points.map((p) => p[1])]);
        }
      })
      .catch(() => {});
  }

  function buildPickers(view) {
    const q = $('quantile');
    if (q.options.length === 0) {
      const labels = view.windows.quantiles && view.windows.quantiles.length ? view.windows.quantiles : DEFAULT_QUANTILES;
      labels.forEach((label) => q.appendChild(el('option', { value: label }, label)));
      q.value = labels.includes('p95') ? 'p95' : labels[0];
    }
    if (pickerSize === view.endpoints.length) {
      return;
    }
    pickerSize = view.endpoints.length;
    for (const id of ['latency-endpoint', 'distribution-endpoint']) {
      const select = $(id);
      const keep = select.value || 'aggregate';
      clear(select);
      const frag = document.createDocumentFragment();
      frag.appendChild(el('option', { value: 'aggregate' }, 'All endpoints (aggregate)'));
      view.endpoints.forEach((e, i) => frag.appendChild(el('option', { value: String(i) }, endpointName(e))));
      select.appendChild(frag);
      select.value = keep;
    }
  }

  // ---- the statistics table -----------------------------------------------------------------

  const COLUMNS = [
    ['requests', (r) => r.requests, 0],
    ['failures', (r) => r.failures, 0],
    ['rps', (r) => r.rps, 2],
    ['current_rps', (r) => r.current_rps, 2],
    ['p50', (r) => r.response_time.p50, 2],
    ['p90', (r) => r.response_time.p90, 2],
    ['p95', (r) => r.response_time.p95, 2],
    ['p99', (r) => r.response_time.p99, 2],
    ['p999', (r) => r.response_time.p999, 2],
    ['max', (r) => r.response_time.max, 2],
    ['mean', (r) => r.response_time.mean, 2],
    ['min', (r) => r.response_time.min, 2],
    ['service_p95', (r) => r.service_time.p95, 2],
  ];

  // The columns that are latencies (ms), as opposed to counts and rates.
  const LATENCY_COLUMNS = new Set(['p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean', 'min', 'service_p95']);

  // Rows shown at once. Every endpoint keeps its row (and its figures in `data-value`), but
  // only one page of them is displayed: a text change in a table of 2,000 displayed rows
  // makes the browser lay out all of them again (0.2 to 0.6 s a second on a busy machine),
  // while rows that are not displayed cost no layout at all.
  const PAGE_ROWS = 100;
  // The endpoint indices on the table's page, in order (the status codes follow them).
  let displayedEndpoints = [];
  // Rows made per task beyond those on screen, and whether a task to make more is pending.
  const ROWS_PER_TASK = 250;
  let moreRowsScheduled = false;
  let tablePage = 0;
  let tableFilter = '';

  function makeRow(key) {
    const tr = el('tr', { 'data-endpoint': key });
    const method = el('td');
    const name = el('td');
    tr.appendChild(method);
    tr.appendChild(name);
    const cells = COLUMNS.map(([col]) => {
      const td = el('td', { 'data-col': col });
      tr.appendChild(td);
      return td;
    });
    return { tr, method, name, cells, values: COLUMNS.map(() => undefined), shown: COLUMNS.map(() => undefined) };
  }

  // Figures (`data-value`) on every row, so every endpoint's numbers are in the page; the
  // text people read only on displayed rows (the rest when shown): a hidden row costs no
  // layout, a displayed one does.
  function fillRow(row, r, displayed) {
    COLUMNS.forEach(([, get], k) => {
      const v = get(r);
      if (row.values[k] !== v) {
        row.values[k] = v;
        row.cells[k].setAttribute('data-value', JSON.stringify(v));
      }
    });
    if (!displayed) {
      return;
    }
    setText(row.method, r.method);
    setText(row.name, r.name);
    // A latency of an endpoint with no timed request is not 0 ms: it is shown as a dash
    // (`data-value` keeps the file's number).
    const timed = { response: r.response_time.count > 0, service: r.service_time.count > 0 };
    COLUMNS.forEach(([col, , digits], k) => {
      const v = row.values[k];
      const text = LATENCY_COLUMNS.has(col) && !timed[col === 'service_p95' ? 'service' : 'response'] ? '\u2013' : fmt(v, digits);
      if (row.shown[k] !== text) {
        row.shown[k] = text;
        row.cells[k].textContent = text;
      }
    });
  }

  // The endpoints of `stream:` steps, in a table of their own (absent without one).
  function drawStreams(view) {
    const box = document.getElementById('streams');
    const streamed = view.endpoints.filter((r) => r.stream);
    box.hidden = streamed.length === 0;
    const body = box.querySelector('tbody');
    clear(body);
    const ms = (l, q) => (l.count > 0 ? fmt(l[q], 2) : '\u2013');
    streamed.forEach((r) => {
      const s = r.stream;
      const mean = s.events.streams > 0 ? s.events.total / s.events.streams : 0;
      const cells = [r.method, r.name, String(s.events.streams), fmt(mean, 1),
        ms(s.first_byte, 'p50'), ms(s.first_event, 'p50'), ms(s.first_event, 'p95'),
        ms(s.event_gap, 'p50'), ms(s.event_gap, 'p95'), ms(s.duration, 'p50')];
      const tr = el('tr');
      cells.forEach((c) => tr.appendChild(el('td', {}, c)));
      body.appendChild(tr);
    });
  }

  function drawTable(view) {
    const body = document.querySelector('#stats tbody');
    const foot = document.querySelector('#stats tfoot');
    const filter = tableFilter.toLowerCase();
    const matching = [];
    view.endpoints.forEach((r, i) => {
      if (!filter || endpointName(r).toLowerCase().includes(filter)) {
        matching.push(i);
      }
    });
    const pages = Math.max(1, Math.ceil(matching.length / PAGE_ROWS));
    tablePage = Math.min(tablePage, pages - 1);
    const first = tablePage * PAGE_ROWS;
    const displayed = new Set(matching.slice(first, first + PAGE_ROWS));
    displayedEndpoints = [...displayed];
    let added = null;
    let made = 0;
    let more = false;
    view.endpoints.forEach((r, i) => {
      const key = String(i);
      let row = rows.get(key);
      if (!row) {
        // Rows not on screen are made a few hundred per task, so the first View of thousands
        // of endpoints does not hold the main thread for long.
        if (made >= ROWS_PER_TASK && !displayed.has(i)) {
          more = true;
          return;
        }
        made += 1;
        row = makeRow(key);
        rows.set(key, row);
        added = added || document.createDocumentFragment();
        added.appendChild(row.tr);
      }
      const show = displayed.has(i);
      if (row.tr.hidden === show) {
        row.tr.hidden = !show;
      }
      fillRow(row, r, show);
    });
    if (added) {
      body.appendChild(added);
    }
    if (more && !moreRowsScheduled) {
      moreRowsScheduled = true;
      setTimeout(() => {
        moreRowsScheduled = false;
        drawTable(barrage.view);
      }, 0);
    }
    for (const [key, row] of rows) {
      if (key !== 'aggregate' && Number(key) >= view.endpoints.length) {
        row.tr.remove();
        rows.delete(key);
      }
    }
    let agg = rows.get('aggregate');
    if (!agg) {
      agg = makeRow('aggregate');
      rows.set('aggregate', agg);
      foot.appendChild(agg.tr);
    }
    fillRow(agg, view.aggregate, true);
    const pager = $('stats-pager');
    pager.hidden = view.endpoints.length <= PAGE_ROWS && !filter;
    setText($('stats-range'), matching.length === 0
      ? 'no endpoint matches'
      : `endpoints ${first + 1}-${Math.min(first + PAGE_ROWS, matching.length)} of ${matching.length}`);
    $('stats-prev').disabled = tablePage === 0;
    $('stats-next').disabled = tablePage >= pages - 1;
  }

  function bindTable() {
    $('stats-prev').addEventListener('click', () => {
      tablePage = Math.max(0, tablePage - 1);
      drawTable(barrage.view);
      drawSections(barrage.view);
    });
    $('stats-next').addEventListener('click', () => {
      tablePage += 1;
      drawTable(barrage.view);
      drawSections(barrage.view);
    });
    $('stats-filter').addEventListener('input', (ev) => {
      tableFilter = ev.target.value;
      tablePage = 0;
      drawTable(barrage.view);
      drawSections(barrage.view);
    });
  }

  // ---- the other sections -------------------------------------------------------------------

  function drawState(view) {
    setText($('state'), view.state);
    setText($('elapsed'), view.elapsed_s ? `(${fmt(view.elapsed_s, 1)} s)` : '');
    drawVerdict(view.verdict);
  }

  function drawVerdict(verdict) {
    const box = $('verdict-box');
    let node = $('verdict');
    if (!verdict) {
      if (node) {
        node.remove();
      }
      return;
    }
    if (!node) {
      node = el('div', { id: 'verdict' });
      box.appendChild(node);
    }
    node.setAttribute('data-passed', String(verdict.passed));
    node.setAttribute('data-exit-code', String(verdict.exit_code));
    clear(node);
    node.appendChild(document.createTextNode(`${verdict.passed ? 'PASSED' : 'FAILED'} (exit status ${verdict.exit_code}) `));
    node.appendChild(el('span', { class: 'reason' }, verdict.reason));
  }

  function drawRun(view) {
    const r = view.run;
    setText($('title-target'), r.target ? `against ${r.target}` : '');
    setText($('tool-version'), view.tool_version);
    const dl = $('run');
    clear(dl);
    const items = [
      ['Target', r.target || 'absolute URLs'],
      ['Scenario file', r.scenario_file],
      ['Load', view.load || (r.load && r.load.model)],
      ['Started', r.started_at],
      ['Ended', r.ended_at],
      ['Duration', r.duration_s ? `${fmt(r.duration_s, 1)} s` : null],
      ['Statistics since', view.stats_since_s > 0 ? `${fmt(view.stats_since_s, 1)} s (reset)` : null],
      ['Interrupted', r.interrupted ? 'yes' : null],
      ['Workers', r.workers || null],
      ['Machine', r.host && r.host.os ? `${r.host.os} ${r.host.arch}, ${r.host.cpus} CPUs` : null],
      ['Command', r.command],
      ['Users now', view.mode === 'live' ? view.users : null],
    ];
    for (const [k, v] of items) {
      if (v === null || v === undefined || v === '') {
        continue;
      }
      dl.appendChild(el('dt', null, k));
      dl.appendChild(el('dd', null, v));
    }
  }

  function fillList(id, items, make) {
    const list = $(id);
    clear(list);
    const frag = document.createDocumentFragment();
    items.forEach((x) => frag.appendChild(make(x)));
    list.appendChild(frag);
  }

  // Lists longer than this show their first rows and say how many more there are: a table of
  // thousands of rows rebuilt every second would freeze the page (the figures are all in the
  // downloads and the result file).
  const LIST_ROWS = 100;

  function fillTable(id, rowsOfCells, emptyText) {
    const body = document.querySelector(`#${id} tbody`);
    clear(body);
    const frag = document.createDocumentFragment();
    const cols = document.querySelectorAll(`#${id} thead th`).length;
    if (rowsOfCells.length === 0) {
      frag.appendChild(el('tr')).appendChild(el('td', { colspan: String(cols), class: 'note' }, emptyText));
    }
    if (rowsOfCells.length > LIST_ROWS) {
      const more = rowsOfCells.length - LIST_ROWS;
      rowsOfCells = rowsOfCells.slice(0, LIST_ROWS);
      frag.appendChild(el('tr', { class: 'more' })).appendChild(
        el('td', { colspan: String(cols), class: 'note' }, `the first ${LIST_ROWS} of ${LIST_ROWS + more} rows (all of them are in the downloads)`));
    }
    for (const cells of rowsOfCells) {
      const tr = el('tr');
      for (const c of cells) {
        tr.appendChild(typeof c === 'number' ? el('td', { class: 'num' }, fmt(c, 2)) : el('td', null, c));
      }
      frag.appendChild(tr);
    }
    body.appendChild(frag);
  }

  // Sections that change rarely: rebuilt only when their data changed (compared as JSON).
  const drawn = {};
  function changed(key, value) {
    const s = JSON.stringify(value);
    if (drawn[key] === s) {
      return false;
    }
    drawn[key] = s;
    return true;
  }

  function drawSections(view) {
    if (changed('thresholds', view.thresholds)) {
      fillList('thresholds', view.thresholds, (t) => {
        const observed = t.observed === null || t.observed === undefined ? 'nothing measured' : `${fmt(t.observed, 3)} ${t.unit}`;
        const li = el('li', { 'data-status': t.status }, `${t.expr}: ${observed} (limit ${fmt(t.limit, 3)} ${t.unit})`);
        if (t.abort_on_fail) {
          li.appendChild(el('span', { class: 'note' }, ' stops the run when it fails'));
        }
        if (t.note) {
          li.appendChild(el('span', { class: 'note' }, ` ${t.note}`));
        }
        return li;
      });
      if (view.thresholds.length === 0) {
        $('thresholds').appendChild(el('li', { class: 'note' }, 'none: without thresholds, any failed request fails the run'));
      }
    }
    if (changed('failures', view.failures.length > LIST_ROWS ? [view.failures.length, view.failures.slice(0, LIST_ROWS)] : view.failures)) {
      fillTable('failures', view.failures.map((f) => [f.method, f.name, f.category, f.count, f.sample]), 'no failure');
    }
    if (changed('checks', view.checks)) {
      fillTable('checks', view.checks.map((c) => [c.method, c.name, c.check, c.passes, c.fails]), 'no check');
    }
    // The aggregate's codes, then those of the endpoints on the table's page (with thousands
    // of endpoints, one row per endpoint and code would be a table of thousands).
    const codes = [];
    for (const [code, n] of Object.entries(view.aggregate.status_codes || {})) {
      codes.push(['', 'All endpoints', code, n]);
    }
    for (const i of displayedEndpoints) {
      const e = view.endpoints[i];
      for (const [code, n] of Object.entries((e && e.status_codes) || {})) {
        codes.push([e.method, e.name, code, n]);
      }
    }
    if (changed('codes', codes)) {
      fillTable('status-codes', codes, 'no response yet');
    }
    if (changed('timeline', view.timeline)) {
      fillList('timeline', view.timeline, (m) => el('li', null, `${fmt(m.at_s, 1)} s: ${m.what} (${m.source})`));
      if (view.timeline.length === 0) {
        $('timeline').appendChild(el('li', { class: 'note' }, 'no load change, reset or stop'));
      }
    }
    if (changed('warnings', view.warnings)) {
      $('warnings-section').hidden = view.warnings.length === 0;
      fillList('warnings', view.warnings, (w) => el('li', null, w));
    }
    if (changed('never_ran', view.never_ran)) {
      $('never-ran-section').hidden = view.never_ran.length === 0;
      fillList('never-ran', view.never_ran, (n) => el('li', null, `${n.scenario}: ${n.what}: ${n.why}`));
    }
    if (changed('notices', view.notices)) {
      fillList('notices', view.notices, (n) => el('li', null, n));
    }
    if (changed('generator', view.generator)) {
      drawGenerator(view.generator);
    }
    if (view.baseline && changed('baseline', view.baseline.compare)) {
      drawBaseline(view);
    }
  }

  function drawGenerator(g) {
    const box = $('generator');
    clear(box);
    if (g.suspect) {
      box.appendChild(el('p', { class: 'suspect' }, 'SUSPECT: the generator fell behind its schedule or ran out of CPU; see the warnings'));
    }
    const lag = g.schedule_lag || {};
    const lines = [
      `schedule lag p99 ${fmt(lag.p99, 3)} ms (max ${fmt(lag.max, 3)} ms, ${fmt(lag.count, 0)} scheduled starts)`,
      `busiest worker CPU ${fmt(g.cpu_percent_max, 0)}% of a core`,
      `iterations started ${fmt(g.iterations_started, 0)}, dropped ${fmt(g.dropped_iterations, 0)}, queue max ${fmt(g.queue_max, 0)}`,
    ];
    const ul = el('ul');
    lines.forEach((l) => ul.appendChild(el('li', null, l)));
    box.appendChild(ul);
  }

  function drawBaseline(view) {
    const b = view.baseline;
    const c = b.compare || {};
    $('baseline-section').hidden = false;
    const info = `Baseline: ${b.run.started_at || '?'} against ${b.run.target || '?'} (barrage ${b.tool_version}), drawn in grey under this run.`;
    setText($('baseline-info'), c.error ? `${info} No comparison: ${c.error}` : `${info} Comparison verdict: ${c.verdict || '-'}`);
    const lines = [];
    const all = (c.endpoints || []).concat(c.aggregate ? [c.aggregate] : []);
    for (const e of all) {
      const name = endpointName(e);
      if (!e.metrics || e.metrics.length === 0) {
        lines.push([name, e.presence === 'added' ? 'only in this run' : 'only in the baseline', '', '', '', '', '']);
        continue;
      }
      for (const m of e.metrics) {
        const interval = m.interval ? `${fmt(m.interval[0], 2)} .. ${fmt(m.interval[1], 2)}` : (m.note || '-');
        const rel = m.relative === null || m.relative === undefined ? '' : ` (${fmt(100 * m.relative, 1)}%)`;
        lines.push([name, String(m.metric), `${fmt(m.base, 2)} ${m.unit}`, `${fmt(m.new, 2)} ${m.unit}`, `${fmt(m.change, 2)}${rel}`, interval, String(m.verdict).replace(/_/g, ' ')]);
      }
    }
    fillTable('compare', lines, 'nothing compared');
    document.querySelectorAll('#compare tbody tr').forEach((tr) => {
      const v = tr.lastChild && tr.lastChild.textContent;
      if (v === 'worse' || v === 'better') {
        tr.lastChild.className = `verdict-${v}`;
      }
    });
  }

  // ---- the monitored server -----------------------------------------------------------------

  // A source's columns are drawn a chart per unit (CPU % beside RSS bytes would flatten one
  // of them), on the x axis of the charts above: seconds since the start. Sizes are drawn in
  // MiB, so the axis reads as people write memory.
  const UNITS = {
    '%': { label: '% of one core', scale: 1 },
    bytes: { label: 'MiB', scale: 1 / 1048576 },
    'bytes/s': { label: 'MiB/s', scale: 1 / 1048576 },
    count: { label: 'count', scale: 1 },
    '/s': { label: 'per second', scale: 1 },
    ms: { label: 'ms', scale: 1 },
    s: { label: 's', scale: 1 },
  };
  const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#bc4c00', '#6e7781'];
  const STALL_COLOR = 'rgba(207, 34, 46, 0.25)';
  // Server charts by key (source index and unit): { chart, box, node, sig }.
  const serverCharts = new Map();

  // Shades the probe's stalls (from each stall's scheduled start, for its length).
  function stallsPlugin() {
    return {
      hooks: {
        draw: [
          (u) => {
            const server = barrage.view && barrage.view.server;
            const stalls = (server && server.probe && server.probe.stalls) || [];
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = STALL_COLOR;
            for (const st of stalls) {
              const x0 = u.valToPos(st.at_s, 'x', true);
              const x1 = Math.max(x0 + 2, u.valToPos(st.at_s + st.ms / 1000, 'x', true));
              const left = Math.max(x0, u.bbox.left);
              const right = Math.min(x1, u.bbox.left + u.bbox.width);
              if (right > left) {
                ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
              }
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  // Column indices by unit, in column order.
  function unitGroups(source) {
    const groups = new Map();
    source.columns.forEach((c, i) => {
      if (!groups.has(c.unit)) {
        groups.set(c.unit, []);
      }
      groups.get(c.unit).push(i);
    });
    return groups;
  }

  function serverChart(key, source, unit, cols) {
    const sig = JSON.stringify([source.name, unit, cols.map((i) => source.columns[i].key)]);
    let entry = serverCharts.get(key);
    if (entry && entry.sig === sig) {
      return entry;
    }
    if (entry) {
      entry.chart.destroy();
      entry.box.remove();
    }
    const u = UNITS[unit] || { label: unit, scale: 1 };
    const box = el('div', { class: 'chart-box server-chart', 'data-source': source.name, 'data-kind': source.kind || '', 'data-unit': unit });
    box.appendChild(el('h3', null, `${source.name}: ${u.label}`));
    const node = el('div', { class: 'chart' });
    box.appendChild(node);
    $('server-charts').appendChild(box);
    const series = cols.map((i, k) => ({ label: source.columns[i].label, stroke: PALETTE[k % PALETTE.length], width: 1.5 }));
    const chart = timeChart(node, u.label, series, undefined, source.kind === 'probe' ? [stallsPlugin()] : []);
    entry = { chart, box, node, sig, scale: u.scale };
    serverCharts.set(key, entry);
    return entry;
  }

  function drawServer(view) {
    const server = view.server;
    const hints = (server && server.hints) || [];
    if (changed('hints', hints)) {
      $('hints').hidden = hints.length === 0;
      fillList('hints', hints, (h) => el('li', { class: 'hint' }, h));
    }
    $('server-section').hidden = !server;
    const wanted = new Set();
    if (server) {
      server.sources.forEach((src, si) => {
        if (src.rows.length === 0) {
          return;
        }
        for (const [unit, cols] of unitGroups(src)) {
          const key = `${si}|${unit}`;
          wanted.add(key);
          const entry = serverChart(key, src, unit, cols);
          const t = src.rows.map((r) => r.t);
          const values = cols.map((i) => src.rows.map((r) => {
            const v = r.values[i];
            return v === null || v === undefined ? null : v * entry.scale;
          }));
          entry.chart.setData([t].concat(values));
        }
      });
    }
    for (const [key, entry] of serverCharts) {
      if (!wanted.has(key)) {
        entry.chart.destroy();
        entry.box.remove();
        serverCharts.delete(key);
      }
    }
    alignTimeAxes(view);
    if (!server) {
      return;
    }
    const p = server.probe;
    setText($('server-probe'), p
      ? `Stall probe ${p.target} at ${fmt(p.rate, 1)}/s: longest stall ${fmt(p.longest_stall_ms, 0)} ms at ${fmt(p.longest_stall_at_s, 1)} s; `
        + `stalled over 50 ms for ${fmt(p.stalled_over_50ms_s, 2)} s, over 100 ms for ${fmt(p.stalled_over_100ms_s, 2)} s, over 500 ms for ${fmt(p.stalled_over_500ms_s, 2)} s; `
        + `${fmt(p.sent, 0)} probes, ${fmt(p.failed, 0)} failed. Stalls are shaded red on the probe's chart.`
      : '');
    const stalls = (p && p.stalls) || [];
    if (changed('stalls', stalls)) {
      fillList('server-stalls', stalls.slice().sort((a, b) => b.ms - a.ms).slice(0, 10),
        (st) => el('li', { 'data-at': String(st.at_s) }, `stall of ${fmt(st.ms, 0)} ms at ${fmt(st.at_s, 1)} s`));
    }
    const lost = server.sources.filter((src) => src.lost);
    if (changed('lost', lost.map((src) => [src.name, src.lost]))) {
      fillList('server-lost', lost, (src) => el('li', null, `${src.name}: lost: ${src.lost}`));
    }
    const processes = [];
    const statements = [];
    for (const src of server.sources) {
      for (const pr of src.processes || []) {
        processes.push([src.name, String(pr.pid), pr.ppid ? String(pr.ppid) : '', pr.command, pr.found]);
      }
      for (const st of src.statements || []) {
        statements.push(st);
      }
    }
    statements.sort((a, b) => b.total_ms - a.total_ms);
    if (changed('processes', processes)) {
      $('server-processes-box').hidden = processes.length === 0;
      fillTable('server-processes', processes, 'no process');
    }
    if (changed('statements', statements)) {
      $('server-statements-box').hidden = statements.length === 0;
      fillTable('server-statements', statements.map((st) => [st.query, st.calls, st.total_ms, st.mean_ms, st.rows]), 'no statement');
    }
  }

  // With a server section, every time chart shows the same seconds (the run's and the
  // sources'), so a CPU peak sits under the latency it caused.
  function alignTimeAxes(view) {
    if (!view.server) {
      return;
    }
    let lo = Infinity;
    let hi = -Infinity;
    const span = (ts) => {
      if (ts.length) {
        lo = Math.min(lo, ts[0]);
        hi = Math.max(hi, ts[ts.length - 1]);
      }
    };
    span(view.series.t);
    span(view.windows.t);
    if (view.baseline) {
      span(view.baseline.series.t);
    }
    view.server.sources.forEach((src) => span(src.rows.map((r) => r.t)));
    if (!(hi > lo)) {
      return;
    }
    const c = barrage.charts;
    for (const chart of [c.rps, c.users, c.latency].concat([...serverCharts.values()].map((e) => e.chart))) {
      chart.setScale('x', { min: lo, max: hi });
    }
  }

  window.addEventListener('resize', () => {
    for (const entry of serverCharts.values()) {
      entry.chart.setSize({ width: chartWidth(entry.node), height: 260 });
    }
  });
  barrage.serverCharts = serverCharts;

  // Appends a delta's server rows to the View's (rows it already has are skipped); every
  // other field of a source, and the probe, stats and hints, are the delta's.
  function mergeServer(whole, d) {
    if (!d) {
      return whole;
    }
    if (!whole) {
      return d;
    }
    const sources = d.sources.map((src) => {
      const own = whole.sources.find((x) => x.name === src.name);
      if (!own) {
        return src;
      }
      const lastT = own.rows.length ? own.rows[own.rows.length - 1].t : -Infinity;
      return Object.assign({}, src, { rows: own.rows.concat(src.rows.filter((r) => r.t > lastT)) });
    });
    // A source the delta does not mention is kept as it was.
    for (const own of whole.sources) {
      if (!sources.some((x) => x.name === own.name)) {
        sources.push(own);
      }
    }
    return Object.assign({}, d, { sources });
  }

  // ---- a capacity search ------------------------------------------------------------------

  // Drawn by capacity.js (shared with the sweep page), near the top; only when it changed.
  function drawCapacity(view) {
    const section = $('capacity-section');
    const cap = view.capacity || null;
    section.hidden = !cap;
    if (cap && window.barrageCapacity && changed('capacity', cap)) {
      window.barrageCapacity.draw(section, cap, 'Capacity');
    }
  }

  // ---- the whole page -----------------------------------------------------------------------

  function draw(view) {
    barrage.view = view;
    document.body.setAttribute('data-mode', view.mode);
    drawState(view);
    drawCapacity(view);
    drawRun(view);
    buildPickers(view);
    drawTable(view);
    drawStreams(view);
    drawSections(view);
    drawTimeCharts(view);
    drawServer(view);
    drawDistribution(view);
    if (view.mode === 'live') {
      drawControls(view);
    }
  }

  // ---- live mode ----------------------------------------------------------------------------

  function post(path, body, errorNode) {
    setText(errorNode, '');
    return fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body || {}),
    }).then((r) => r.json().catch(() => ({})).then((j) => {
      if (!r.ok) {
        setText(errorNode, j.error || `${path}: HTTP ${r.status}`);
        throw new Error(j.error || r.status);
      }
      return j;
    }));
  }

  // `30`, `30s`, `2m`, `1h`, `1m30s` as seconds; NaN when it reads as none of them.
  function parseRunTime(text) {
    const s = text.trim();
    if (s === '') {
      return null;
    }
    if (/^\d+(\.\d+)?$/.test(s)) {
      return Number(s);
    }
    const re = /(\d+(?:\.\d+)?)(h|m|s)/g;
    let total = 0;
    let consumed = '';
    let m;
    while ((m = re.exec(s)) !== null) {
      total += Number(m[1]) * { h: 3600, m: 60, s: 1 }[m[2]];
      consumed += m[0];
    }
    return consumed === s ? total : NaN;
  }

  let formFilled = false;
  function drawControls(view) {
    $('live-controls').hidden = false;
    const ready = view.state === 'ready';
    const form = $('start');
    form.hidden = !ready;
    if (ready && view.form && !formFilled) {
      formFilled = true;
      const f = view.form;
      const one = f.scenarios.length === 1 ? f.scenarios[0] : null;
      form.elements.host.value = f.host || '';
      form.elements.run_time.value = f.run_time_s === null || f.run_time_s === undefined ? '' : String(f.run_time_s);
      form.elements.users.value = one && one.users !== null ? one.users : '';
      form.elements.spawn_rate.value = one && one.spawn_rate !== null ? one.spawn_rate : '';
      form.elements.rate.value = one && one.rate !== null ? one.rate : '';
      for (const name of ['users', 'spawn_rate', 'rate']) {
        form.elements[name].disabled = !f.editable;
      }
      const box = $('start-scenarios');
      clear(box);
      if (f.scenarios.length > 1) {
        for (const s of f.scenarios) {
          box.appendChild(el('p', { class: 'scenario', 'data-name': s.name }, `${s.name}: ${s.load}`));
        }
      }
    }
    const running = view.state === 'running' || view.state === 'stopping';
    $('running-controls').hidden = !running;
    $('stop').disabled = view.state !== 'running';
    $('quit').hidden = view.state !== 'ended';
    const scenarios = (view.form && view.form.scenarios) || [];
    const select = document.querySelector('#change select[name="scenario"]');
    if (scenarios.length > 1 && select.options.length === 0) {
      scenarios.forEach((s) => select.appendChild(el('option', { value: s.name }, `${s.name} (${s.steers})`)));
    }
    select.hidden = scenarios.length <= 1;
    const chosen = scenarios.find((s) => s.name === select.value) || scenarios[0];
    setText($('change-label'), chosen && chosen.steers === 'rate' ? 'Rate (iterations/s)' : 'Users');
  }

  function bindControls() {
    $('start').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = ev.target.elements;
      const body = {};
      const num = (name) => (f[name].value.trim() === '' || f[name].disabled ? null : Number(f[name].value));
      if (f.host.value.trim() !== '') {
        body.host = f.host.value.trim();
      }
      const runTime = parseRunTime(f.run_time.value);
      if (Number.isNaN(runTime)) {
        setText($('start-error'), 'run time: give seconds, or 30s, 2m, 1h');
        return;
      }
      if (runTime !== null) {
        body.run_time_s = runTime;
      }
      for (const name of ['users', 'spawn_rate', 'rate']) {
        const v = num(name);
        if (v !== null) {
          body[name] = v;
        }
      }
      post('/api/start', body, $('start-error')).then(() => refetch()).catch(() => {});
    });
    $('stop').addEventListener('click', () => post('/api/stop', {}, $('control-error')).catch(() => {}));
    $('reset').addEventListener('click', () => post('/api/reset', {}, $('control-error')).catch(() => {}));
    $('quit').addEventListener('click', () => post('/api/quit', {}, $('control-error')).catch(() => {}));
    $('change').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const f = ev.target.elements;
      const scenarios = (barrage.view.form && barrage.view.form.scenarios) || [];
      const chosen = scenarios.find((s) => s.name === f.scenario.value) || scenarios[0];
      const target = Number(f.target.value);
      const body = {};
      if (scenarios.length > 1 && chosen) {
        body.scenario = chosen.name;
      }
      if (chosen && chosen.steers === 'rate') {
        body.rate = target;
      } else {
        body.users = Math.round(target);
      }
      post('/api/load', body, $('control-error')).catch(() => {});
    });
    document.querySelector('#change select[name="scenario"]').addEventListener('change', () => drawControls(barrage.view));
  }

  function refetch() {
    return fetch('/api/view')
      .then((r) => r.json())
      .then((v) => draw(v))
      .catch(() => {});
  }

  // Appends the delta's windows to `w`: endpoint columns are aligned to their own windows,
  // so endpoints new in the delta get gaps before, and those absent from it gaps after.
  // The windows of a delta from index `from` on.
  function sliceWindows(d, from) {
    if (from === 0) {
      return d;
    }
    return Object.assign({}, d, {
      start: d.start.slice(from),
      t: d.t.slice(from),
      requests: d.requests.slice(from),
      aggregate: d.aggregate.map((col) => col.slice(from)),
      endpoints: d.endpoints
        .map((e) => ({ i: e.i, values: e.values.map((col) => col.slice(from)) }))
        .filter((e) => e.values.some((col) => col.some((v) => v !== null))),
    });
  }

  function appendWindows(w, d) {
    const before = w.t.length;
    const added = d.t.length;
    w.start.push(...d.start);
    w.t.push(...d.t);
    w.requests.push(...d.requests);
    d.aggregate.forEach((col, q) => {
      w.aggregate[q] = (w.aggregate[q] || new Array(before).fill(null)).concat(col);
    });
    const byI = new Map(w.endpoints.map((e) => [e.i, e]));
    for (const e of d.endpoints) {
      let own = byI.get(e.i);
      if (!own) {
        own = { i: e.i, values: e.values.map(() => new Array(before).fill(null)) };
        byI.set(e.i, own);
        w.endpoints.push(own);
      }
      e.values.forEach((col, q) => own.values[q].push(...col));
    }
    for (const own of w.endpoints) {
      for (const col of own.values) {
        while (col.length < before + added) {
          col.push(null);
        }
      }
    }
    w.endpoints.sort((a, b) => a.i - b.i);
    w.open = d.open;
    if (d.quantiles && d.quantiles.length) {
      w.quantiles = d.quantiles;
    }
  }

  function applyDelta(d) {
    const view = barrage.view;
    if (!view) {
      refetch();
      return;
    }
    const s = view.series;
    const lastT = s.t.length ? s.t[s.t.length - 1] : null;
    const firstT = d.series.t.length ? d.series.t[0] : null;
    // A gap (seconds this client missed): start again from the whole View.
    if (firstT !== null && lastT !== null && firstT > lastT + 1.5) {
      refetch();
      return;
    }
    const next = Object.assign({}, d);
    next.series = s;
    next.windows = view.windows;
    next.server = mergeServer(view.server, d.server);
    // Seconds and windows this page already has (a whole View fetched while the delta was on
    // its way) are not appended twice; the rest of the delta is, and its other fields are
    // the newest.
    const newFrom = lastT === null ? 0 : d.series.t.findIndex((t) => t > lastT + 0.5);
    if (newFrom >= 0) {
      for (const [k, col] of Object.entries(d.series)) {
        if (Array.isArray(col)) {
          s[k] = (s[k] || []).concat(col.slice(newFrom));
        }
      }
    }
    const w = view.windows;
    const lastStart = w.start.length ? w.start[w.start.length - 1] : null;
    const windowsFrom = lastStart === null ? 0 : d.windows.start.findIndex((x) => x > lastStart);
    if (windowsFrom >= 0) {
      appendWindows(w, sliceWindows(d.windows, windowsFrom));
    } else {
      w.open = d.windows.open;
    }
    draw(next);
  }

  function connect() {
    const events = new EventSource('/api/events');
    events.addEventListener('second', (ev) => applyDelta(JSON.parse(ev.data)));
    events.addEventListener('state', (ev) => {
      const s = JSON.parse(ev.data);
      if (barrage.view) {
        barrage.view.state = s.state;
        barrage.view.verdict = s.verdict;
        drawState(barrage.view);
        drawControls(barrage.view);
      }
      if (s.state === 'running' || s.state === 'ended') {
        refetch();
      }
      if (s.state === 'ended') {
        // The final distribution replaces the one of the run so far.
        fetchDistribution($('distribution-endpoint').value || 'aggregate', true);
        // The server ends the stream after the end; reconnecting would only fetch the end again.
        events.close();
      }
    });
    events.addEventListener('notice', (ev) => {
      const n = JSON.parse(ev.data);
      if (barrage.view) {
        barrage.view.notices.push(n.text);
        drawSections(barrage.view);
      }
    });
    // EventSource reconnects by itself; whatever was missed comes from the whole View (the
    // first connection follows the fetch that drew the page).
    let opened = false;
    events.addEventListener('open', () => {
      if (opened) {
        refetch();
      }
      opened = true;
    });
  }

  // ---- start --------------------------------------------------------------------------------

  function start() {
    createCharts();
    bindTable();
    $('quantile').addEventListener('change', () => drawLatency(barrage.view));
    $('latency-endpoint').addEventListener('change', () => drawLatency(barrage.view));
    $('distribution-endpoint').addEventListener('change', () => {
      if (barrage.view.mode === 'live') {
        fetchDistribution($('distribution-endpoint').value, true);
      } else {
        drawDistribution(barrage.view);
      }
    });
    const embedded = $('barrage-view');
    if (embedded) {
      $('live-controls').hidden = true;
      draw(JSON.parse(embedded.textContent));
      return;
    }
    bindControls();
    fetch('/api/view')
      .then((r) => r.json())
      .then((v) => {
        draw(v);
        connect();
      })
      .catch((e) => {
        document.body.appendChild(el('p', { class: 'error' }, `cannot load the run: ${e}`));
      });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
