// The status page: polls /api/status, one page of /api/nodes and, for the selected node,
// /api/node every two seconds. Everything comes from this gateway; nothing is fetched from
// elsewhere. Text from the API is always set as textContent, never as HTML.
'use strict';

const kRefreshMs = 2000;
const kPageSize = 50;
const state = { offset: 0, matched: 0, selected: null, attribute: '' };

const $ = (id) => document.getElementById(id);

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return 'never';
  if (seconds < 1) return 'just now';
  if (seconds < 120) return Math.round(seconds) + ' s ago';
  if (seconds < 7200) return Math.round(seconds / 60) + ' min ago';
  return Math.round(seconds / 3600) + ' h ago';
}

function uptime(seconds) {
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24;
  const m = Math.floor(seconds / 60) % 60, s = Math.floor(seconds % 60);
  return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm ' + s + 's';
}

function valueText(a) {
  const v = typeof a.value === 'number' ? String(+a.value.toPrecision(6)) : String(a.value);
  return a.name + ' ' + v + (a.unit ? ' ' + a.unit : '');
}

async function getJson(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(url + ': ' + response.status);
  return response.json();
}

function showStatus(status) {
  const g = status.gateway;
  $('gateway-name').textContent = g.name;
  $('version').textContent = g.version;
  $('uptime').textContent = uptime(g.uptime_s);
  $('broker').textContent = (g.broker.address || '(not yet connected)') + ' — ' +
      (g.broker.connected ? 'connected' : 'disconnected') + ', ' + g.broker.connects + ' connects';
  $('spool').textContent = g.spool.state + ', ' + g.spool.records + ' messages, ' + g.spool.bytes + ' bytes';
  $('nodes-count').textContent = g.nodes_online + ' of ' + g.nodes_total + ' online';
  $('messages').textContent = g.messages_published + ' published, ' + g.messages_queued +
      ' queued, ' + g.messages_dropped + ' dropped';
  const health = $('health');
  health.textContent = g.health;
  health.className = 'badge ' + (g.health === 'ok' ? 'ok' : 'degraded');
  const problems = $('problems');
  problems.replaceChildren(...g.problems.map((p) => { const li = document.createElement('li'); li.textContent = p; return li; }));
  const body = $('sources').tBodies[0];
  body.replaceChildren(...status.sources.map((s) => {
    const row = document.createElement('tr');
    row.dataset.source = s.name;
    cell(row, s.name);
    cell(row, s.nodes_online + ' / ' + s.nodes_total);
    cell(row, String(s.polls));
    cell(row, Object.entries(s.errors).map(([k, n]) => k + ' ' + n).join(', ') || '0');
    cell(row, s.last_error);
    return row;
  }));
}

function showNodes(page) {
  state.matched = page.matched;
  const body = $('nodes').tBodies[0];
  body.replaceChildren(...page.nodes.map((n) => {
    const row = document.createElement('tr');
    row.className = 'node';
    row.dataset.source = n.source;
    row.dataset.node = n.node;
    if (state.selected && state.selected.source === n.source && state.selected.node === n.node) row.classList.add('selected');
    cell(row, n.source);
    cell(row, n.node);
    cell(row, n.online ? 'online' : 'offline', n.online ? 'online' : 'offline');
    cell(row, duration(n.age_s));
    cell(row, n.attributes.map(valueText).join(' · '), 'values');
    row.addEventListener('click', () => select(n.source, n.node));
    return row;
  }));
  const last = Math.min(page.offset + page.nodes.length, page.matched);
  $('page').textContent = page.matched ? (page.offset + 1) + '–' + last + ' of ' + page.matched : 'no nodes';
  $('prev').disabled = page.offset === 0;
  $('next').disabled = last >= page.matched;
}

function drawChart(detail) {
  const select = $('detail-attribute');
  const names = detail.history.map((s) => s.attribute);
  if (select.options.length !== names.length || names.some((n, i) => select.options[i].value !== n)) {
    select.replaceChildren(...names.map((n) => { const o = document.createElement('option'); o.value = n; o.textContent = n; return o; }));
    if (names.includes(state.attribute)) select.value = state.attribute;
  }
  state.attribute = select.value;
  const series = detail.history.find((s) => s.attribute === state.attribute);
  const chart = $('chart');
  if (!series || series.points.length === 0) { chart.replaceChildren(); $('chart-range').textContent = 'no numeric readings'; return; }
  const xs = series.points.map((p) => p[0]), ys = series.points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = (x) => (x1 === x0 ? 300 : ((x - x0) / (x1 - x0)) * 600);
  const sy = (y) => (y1 === y0 ? 80 : 150 - ((y - y0) / (y1 - y0)) * 140);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', series.points.map((p) => sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1)).join(' '));
  chart.replaceChildren(line);
  $('chart-range').textContent = series.attribute + ': ' + series.points.length + ' readings, ' +
      (+y0.toPrecision(6)) + ' to ' + (+y1.toPrecision(6)) + (series.unit ? ' ' + series.unit : '');
}

async function refreshDetail() {
  if (!state.selected) return;
  const { source, node } = state.selected;
  const detail = await getJson('api/node?source=' + encodeURIComponent(source) + '&node=' + encodeURIComponent(node));
  $('detail').hidden = false;
  $('detail-title').textContent = source + ' / ' + node + ' — ' + (detail.node.online ? 'online' : 'offline');
  drawChart(detail);
}

function select(source, node) {
  state.selected = { source, node };
  refreshDetail().catch(() => {});
}

async function refresh() {
  try {
    const query = 'api/nodes?offset=' + state.offset + '&limit=' + kPageSize +
        '&q=' + encodeURIComponent($('search').value) + '&state=' + encodeURIComponent($('state').value);
    const [status, nodes] = await Promise.all([getJson('api/status'), getJson(query)]);
    showStatus(status);
    showNodes(nodes);
    await refreshDetail();
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (error) {
    $('health').textContent = 'unreachable';
    $('health').className = 'badge bad';
  }
}

let timer = null;
function schedule(now) {
  clearTimeout(timer);
  if (now) refresh().finally(() => { timer = setTimeout(() => schedule(true), kRefreshMs); });
}

document.addEventListener('DOMContentLoaded', () => {
  $('search').addEventListener('input', () => { state.offset = 0; schedule(true); });
  $('state').addEventListener('change', () => { state.offset = 0; schedule(true); });
  $('prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - kPageSize); schedule(true); });
  $('next').addEventListener('click', () => { state.offset += kPageSize; schedule(true); });
  $('detail-attribute').addEventListener('change', () => { state.attribute = $('detail-attribute').value; refreshDetail().catch(() => {}); });
  schedule(true);
});
