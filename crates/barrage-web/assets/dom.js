// The small DOM helpers and number formats every barrage page shares (the report and web UI
// in app.js, the capacity section and the sweep page in capacity.js), as `window.barrageDom`.
// Loaded before them. Text from a run only ever reaches the page through `textContent`.
(function () {
  'use strict';

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        node.setAttribute(k, v);
      }
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function setText(node, text) {
    const s = String(text);
    if (node.textContent !== s) {
      node.textContent = s;
    }
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  // One formatter per precision: toLocaleString builds a new one per call, which costs
  // more than everything else when 2,000 rows change each second.
  const formats = new Map();
  function fmt(n, digits) {
    if (n === null || n === undefined || Number.isNaN(n)) {
      return '-';
    }
    const d = digits === undefined ? 2 : digits;
    let f = formats.get(d);
    if (!f) {
      f = new Intl.NumberFormat('en-US', { maximumFractionDigits: d, minimumFractionDigits: 0 });
      formats.set(d, f);
    }
    return f.format(n);
  }

  function chartWidth(node) {
    return Math.max(320, Math.floor(node.getBoundingClientRect().width || 600));
  }

  window.barrageDom = { el, setText, clear, fmt, chartWidth };
})();
