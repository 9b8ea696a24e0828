// muster's console: one ES module, no dependencies. Every page is a URL
// under /ui/, drawn from the /api/v1 routes with the session cookie; every
// change carries the session's CSRF token. Text from devices is only ever
// set as text, never parsed as HTML.

const main = document.getElementById('main');
let me = { name: '', role: 'viewer', csrf: '' };

// el builds an element: attributes (on* are listeners) and children
// (strings become text nodes).
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') opt.headers['X-CSRF-Token'] = me.csrf;
  if (body !== undefined) { opt.headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
  const r = await fetch(path, opt);
  if (r.status === 401) { location.href = '/ui/login'; throw new Error('signed out'); }
  const data = r.headers.get('Content-Type')?.includes('json') ? await r.json() : await r.text();
  if (!r.ok) throw new Error((data && data.error) || `${r.status} ${r.statusText}`);
  return data;
}

const when = (t) => (!t || t.startsWith('0001-')) ? '—' : new Date(t).toLocaleString();

function table(columns, rows, opts = {}) {
  const head = el('tr', {}, columns.map((c) => {
    if (!opts.onSort || !c.sort) return el('th', { scope: 'col' }, c.title);
    const active = opts.sort === c.sort;
    return el('th', { scope: 'col', 'aria-sort': active ? (opts.desc ? 'descending' : 'ascending') : 'none' },
      el('button', { type: 'button', onclick: () => opts.onSort(c.sort) }, c.title + (active ? (opts.desc ? ' ▼' : ' ▲') : '')));
  }));
  const body = rows.length ? rows.map((r) => el('tr', {}, columns.map((c) => el('td', { class: c.cls }, c.cell(r)))))
    : [el('tr', {}, el('td', { colspan: columns.length, class: 'muted' }, opts.empty || 'Nothing here yet.'))];
  return el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, head), el('tbody', {}, body)));
}

function show(title, ...content) {
  document.title = `${title} — muster`;
  main.replaceChildren(el('h1', {}, title), ...content);
  for (const a of document.querySelectorAll('nav a')) {
    if (location.pathname.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function failure(err) { return el('p', { class: 'error', role: 'alert' }, String(err.message || err)); }

// A form that makes a change: disabled for viewers (the server refuses
// them anyway), its error shown in place.
function changeForm(label, fields, submit) {
  const msg = el('p', { class: 'message', role: 'status' });
  const form = el('form', { class: 'toolbar', 'aria-label': label }, fields,
    el('button', { type: 'submit', disabled: me.role !== 'admin' }, label), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    try { await submit(new FormData(form)); } catch (err) { msg.textContent = err.message; }
  });
  return form;
}

function field(label, name, attrs = {}) {
  return el('label', {}, label, el('input', { name, ...attrs }));
}

// Fleet: every device, searched, sorted and paged on the server.
async function fleet() {
  const p = new URLSearchParams(location.search);
  const q = p.get('q') || '', where = p.get('where') || '', seen = p.get('seen') || '', sort = p.get('sort') || 'name';
  const desc = p.get('order') === 'desc', page = Number(p.get('page') || 1);
  const go = (changes) => {
    const n = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) { if (v === '' || v === null) n.delete(k); else n.set(k, v); }
    navigate(`/ui/fleet?${n}`);
  };
  const search = el('form', { class: 'toolbar', role: 'search', onsubmit: (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    go({ q: f.get('q'), where: f.get('where'), seen: f.get('seen'), page: '' });
  } },
  el('label', {}, 'Search (name, IP, OS, tag, client; software:NAME[@VERSION], mac:PART)', el('input', { name: 'q', type: 'search', value: q, id: 'fleet-q' })),
  el('label', {}, 'Query (lacks software "7-zip" >= "23", os ~ "windows" and memory < 4096…)',
    el('input', { name: 'where', type: 'search', value: where, id: 'fleet-where', size: 40 })),
  el('label', {}, 'Seen within',
    el('select', { name: 'seen' }, [['', 'any time'], ['1', '1 day'], ['7', '7 days'], ['30', '30 days']].map(([v, t]) =>
      el('option', { value: v, selected: v === seen }, t)))),
  el('button', { type: 'submit' }, 'Search'));
  show('Fleet', search, el('p', { class: 'muted' }, 'Loading…'));
  try {
    const qs = new URLSearchParams({ q, where, sort, order: desc ? 'desc' : 'asc', page: String(page), per_page: '50' });
    if (seen) qs.set('seen', seen);
    const r = await api('GET', `/api/v1/fleet?${qs}`);
    const pages = Math.max(1, Math.ceil(r.total / r.per_page));
    const csv = new URLSearchParams({ q, where, sort, order: desc ? 'desc' : 'asc' });
    if (seen) csv.set('seen', seen);
    show('Fleet', search,
      el('p', { id: 'fleet-count', 'data-q': q, 'data-total': r.total }, `${r.total} device${r.total === 1 ? '' : 's'} `,
        el('a', { href: `/api/v1/fleet.csv?${csv}`, download: 'fleet.csv' }, 'Export CSV'), ' · ', el('a', { href: '/ui/duplicates' }, 'Duplicates')),
      table([
        { title: 'Name', sort: 'name', cell: (d) => el('a', { href: `/ui/device/${d.id}` }, d.name || d.deviceid) },
        { title: 'IP', sort: 'ip', cell: (d) => d.ipaddr },
        { title: 'OS', sort: 'os', cell: (d) => `${d.osname} ${d.osversion}` },
        { title: 'Client', sort: 'client', cell: (d) => d.client || '—', cls: 'hide-narrow' },
        { title: 'Tag', sort: 'tag', cell: (d) => d.tag || '—', cls: 'hide-narrow' },
        { title: 'Last inventory', sort: 'last_inventory', cell: (d) => when(d.last_inventory), cls: 'hide-narrow' },
        { title: 'Last seen', sort: 'last_contact', cell: (d) => when(d.last_contact) },
      ], r.devices, { sort, desc, empty: 'No device matches.', onSort: (s) => go({ sort: s, order: s === sort && !desc ? 'desc' : 'asc', page: '' }) }),
      el('nav', { class: 'toolbar', 'aria-label': 'Pages of results' },
        el('button', { type: 'button', disabled: page <= 1, onclick: () => go({ page: String(page - 1) }) }, 'Previous'),
        el('span', {}, `Page ${page} of ${pages}`),
        el('button', { type: 'button', disabled: page >= pages, onclick: () => go({ page: String(page + 1) }) }, 'Next')));
  } catch (err) { main.append(failure(err)); }
}

// Device: its summary and every inventory section.
async function device(id) {
  show('Device', el('p', { class: 'muted' }, 'Loading…'));
  try {
    const [d, st] = await Promise.all([api('GET', `/api/v1/devices/${encodeURIComponent(id)}`),
      api('GET', `/api/v1/devices/${encodeURIComponent(id)}/status`)]);
    const standing = { '-1': 'not a candidate yet', 0: 'never elected (admin)', 1: 'elected', 2: 'elected by an admin' }[st.election.mode];
    const summary = el('dl', {}, [
      ['DEVICEID', d.deviceid], ['IP', d.ipaddr], ['OS', `${d.osname} ${d.osversion}`], ['Client', d.client || '—'],
      ['Tag', d.tag || '—'], ['Agent', d.useragent], ['First seen', when(d.first_seen)],
      ['Last inventory', when(d.last_inventory)], ['Last seen', when(d.last_contact)],
      ['Activation', d.client ? `active for client ${d.client}` : 'not activated'],
      ['IPDISCOVER', standing + (st.election.subnet ? ` on ${st.election.subnet}` : '')],
    ].flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    const sections = [el('section', { 'aria-label': 'Packages' }, el('h2', {}, 'Packages'),
      table([
        { title: 'Package', cell: (p) => el('a', { href: `/ui/packages/${encodeURIComponent(p.package_id)}` }, p.package_id) },
        { title: 'State', cell: (p) => p.state }, { title: 'Updated', cell: (p) => when(p.updated) },
      ], st.packages, { empty: 'No package assigned.' }))];
    for (const [name, value] of Object.entries(d.inventory || {})) {
      const rows = Array.isArray(value) ? value : (value && typeof value === 'object' ? [value] : []);
      if (!rows.length) continue;
      const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 12);
      sections.push(el('section', { 'aria-label': name }, el('h2', {}, `${name.toUpperCase()} (${rows.length})`),
        table(cols.map((c) => ({ title: c, cell: (r) => (r[c] === undefined || r[c] === null) ? '' : (typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c])) })), rows)));
    }
    show(d.name || d.deviceid, summary, ...sections);
  } catch (err) { main.append(failure(err)); }
}

// Network: subnets with their elected agents and counts, and the devices
// seen; unknown ones can be identified, or queued for an agent push.
async function network() {
  show('Network', el('p', { class: 'muted' }, 'Loading…'));
  try {
    const [subnets, map] = await Promise.all([api('GET', '/api/v1/subnets'), api('GET', '/api/v1/network')]);
    const ipNum = (ip) => ip.split('.').reduce((n, b) => n * 256 + Number(b), 0);
    map.sort((a, b) => a.subnet.localeCompare(b.subnet) || ipNum(a.ip) - ipNum(b.ip));
    const selected = () => [...main.querySelectorAll('input[name="pick"]:checked')].map((c) => c.value);
    const identify = changeForm('Identify selected', [
      field('Type', 'type', { required: true, maxlength: 64, id: 'identify-type', placeholder: 'printer, switch…' }),
      field('Description', 'description', { maxlength: 512, id: 'identify-description' }),
    ], async (f) => {
      const macs = selected();
      if (!macs.length) throw new Error('Select devices first.');
      for (const mac of macs) await api('POST', '/api/v1/network/identify', { mac, type: f.get('type'), description: f.get('description') || '' });
      network();
    });
    const push = changeForm('Push the agent to selected', [
      el('label', {}, 'Over', el('select', { name: 'transport', id: 'push-transport' },
        ['winrm', 'winrms', 'ssh'].map((t) => el('option', { value: t }, t)))),
    ], async (f) => {
      const macs = selected();
      if (!macs.length) throw new Error('Select devices first.');
      const r = await api('POST', '/api/v1/network/push', { macs, transport: f.get('transport') });
      navigate(`/ui/push?queued=${r.queued.length}`);
    });
    show('Network',
      el('h2', {}, 'Subnets'),
      table([
        { title: 'Subnet', cell: (s) => s.subnet },
        { title: 'Elected (why)', cell: (s) => (s.agents || []).length ? el('ul', {}, s.agents.map((a) => el('li', {},
          `${a.name || a.deviceid}: ${a.mode === 2 ? 'chosen by an admin' : `contact quality ${a.quality.toFixed(2)}, fidelity ${a.fidelity}`}`))) : '—' },
        { title: 'Last scan', cell: (s) => when(s.last_scan) },
        { title: 'Next scan', cell: (s) => s.rescan ? (s.next_scan.startsWith('0001-') ? `every ${s.rescan}, at the next contact` : when(s.next_scan)) : 'none scheduled', cls: 'hide-narrow' },
        { title: 'Seen', cell: (s) => s.live }, { title: 'Inventoried', cell: (s) => s.inventoried },
        { title: 'Identified', cell: (s) => s.identified }, { title: 'Unknown', cell: (s) => s.unknown },
      ], subnets),
      el('h2', {}, 'Devices seen'),
      el('p', { class: 'muted' }, 'Pushes go to the retry queue, due at once: muster push --queue --server … --token … runs them.'),
      identify, push,
      table([
        { title: 'Select', cell: (e) => e.inventoried ? '' : el('input', { type: 'checkbox', name: 'pick', value: e.mac, 'aria-label': `select ${e.ip}` }) },
        { title: 'IP', cell: (e) => e.ip }, { title: 'MAC', cell: (e) => e.mac }, { title: 'Vendor', cell: (e) => e.vendor || '—' },
        { title: 'Name', cell: (e) => e.name || '—', cls: 'hide-narrow' },
        { title: 'Status', cell: (e) => e.inventoried ? 'inventoried' : e.type ? `identified: ${e.type}${e.description ? ' (' + e.description + ')' : ''}` : 'unknown' },
        { title: 'First seen', cell: (e) => when(e.first_seen), cls: 'hide-narrow' }, { title: 'Last seen', cell: (e) => when(e.last_seen) },
      ], map));
  } catch (err) { main.append(failure(err)); }
}

// upload sends a file with XMLHttpRequest, which reports upload progress
// (fetch does not).
function upload(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', url);
    x.setRequestHeader('X-CSRF-Token', me.csrf);
    x.upload.addEventListener('progress', (ev) => { if (ev.lengthComputable) onProgress(ev.loaded / ev.total); });
    x.addEventListener('load', () => {
      let data = {};
      try { data = JSON.parse(x.responseText); } catch { /* not JSON */ }
      if (x.status >= 200 && x.status < 300) resolve(data); else reject(new Error(data.error || `${x.status} ${x.statusText}`));
    });
    x.addEventListener('error', () => reject(new Error('the upload failed (network)')));
    x.send(file);
  });
}

function stateCounts(states) {
  const c = {};
  for (const s of states) c[s.state] = (c[s.state] || 0) + 1;
  return Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ') || 'not assigned';
}

// Packages: upload and build, each with its per-state counts.
async function packagesPage() {
  show('Packages', el('p', { class: 'muted' }, 'Loading…'));
  try {
    const list = await api('GET', '/api/v1/packages');
    const counts = await Promise.all(list.map(async (p) => stateCounts(await api('GET', `/api/v1/packages/${encodeURIComponent(p.id)}/status`))));
    const bar = el('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });
    const form = changeForm('Build package', [
      el('label', {}, 'File or archive (.tar.gz, .zip)', el('input', { type: 'file', name: 'file', required: true, id: 'pkg-file' })),
      field('Name', 'name', { maxlength: 128, id: 'pkg-name' }),
      el('label', {}, 'Action', el('select', { name: 'action', id: 'pkg-action' },
        ['launch', 'execute', 'store'].map((a) => el('option', { value: a }, a)))),
      field('Command (launch: the file to run; execute: the command; store: the directory)', 'command', { required: true, maxlength: 1024, id: 'pkg-command' }),
      bar,
    ], async (f) => {
      const file = f.get('file');
      const n = file.name.toLowerCase();
      const archive = n.endsWith('.tar.gz') || n.endsWith('.tgz') ? 'tar.gz' : n.endsWith('.zip') ? 'zip' : 'file';
      const qs = new URLSearchParams({ name: f.get('name') || file.name, action: f.get('action'), command: f.get('command'), archive });
      if (archive === 'file') qs.set('filename', file.name);
      bar.hidden = false;
      const info = await upload(`/api/v1/packages?${qs}`, file, (v) => { bar.value = v; });
      navigate(`/ui/packages/${encodeURIComponent(info.id)}`);
    });
    show('Packages', form, table([
      { title: 'ID', cell: (p) => el('a', { href: `/ui/packages/${encodeURIComponent(p.id)}` }, p.id) },
      { title: 'Name', cell: (p) => p.label || p.name || '—' }, { title: 'Action', cell: (p) => p.action },
      { title: 'Size', cell: (p) => p.size, cls: 'hide-narrow' }, { title: 'Status', cell: (p) => counts[list.indexOf(p)] },
    ], list));
  } catch (err) { main.append(failure(err)); }
}

// One package: assign it, and where it stands on each device.
async function packagePage(id) {
  show(`Package ${id}`, el('p', { class: 'muted' }, 'Loading…'));
  try {
    const [info, states] = await Promise.all([api('GET', `/api/v1/packages/${encodeURIComponent(id)}`),
      api('GET', `/api/v1/packages/${encodeURIComponent(id)}/status`)]);
    const assign = changeForm('Assign', [
      el('label', {}, 'To', el('select', { name: 'kind', id: 'assign-kind' },
        [['device', 'a device (DEVICEID or name)'], ['client', 'a client'], ['tag', 'a tag'], ['group', 'a group'], ['all', 'every device']].map(([v, t]) => el('option', { value: v }, t)))),
      field('Which', 'value', { maxlength: 256, id: 'assign-value' }),
      el('label', {}, 'Again where it ran', el('input', { type: 'checkbox', name: 'force' })),
    ], async (f) => {
      await api('POST', `/api/v1/packages/${encodeURIComponent(id)}/assign`, { kind: f.get('kind'), value: f.get('value') || '', force: f.get('force') === 'on' });
      packagePage(id);
    });
    show(`Package ${info.label || info.id}`,
      el('dl', {}, [['ID', info.id], ['Action', info.action], ['Command', info.name || info.command || info.path || '—'],
        ['Size', info.size], ['Fragments', info.frags], ['SHA-256', info.sha256 || '—'], ['Status', stateCounts(states)]]
        .flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
      assign,
      el('h2', {}, 'Devices'),
      table([
        { title: 'Device', cell: (s) => s.name || s.deviceid }, { title: 'State', cell: (s) => s.state },
        { title: 'Forced', cell: (s) => s.force ? 'yes' : 'no', cls: 'hide-narrow' }, { title: 'Updated', cell: (s) => when(s.updated) },
      ], states, { empty: 'Not assigned to any device yet.' }));
  } catch (err) { main.append(failure(err)); }
}

// Push runs: the runs muster push --server reported, and the retry queue.
async function pushRuns() {
  show('Push runs', el('p', { class: 'muted' }, 'Loading…'));
  try {
    const [runs, queue] = await Promise.all([api('GET', '/api/v1/push/runs'), api('GET', '/api/v1/push/queue')]);
    const counts = (r) => Object.entries(r.outcomes || {}).map(([k, v]) => `${k} ${v}`).join(', ') || '—';
    show('Push runs',
      table([
        { title: 'Run', cell: (r) => el('a', { href: `/ui/push/${encodeURIComponent(r.id)}` }, r.id) },
        { title: 'Installer', cell: (r) => r.label || '—' }, { title: 'By', cell: (r) => r.who, cls: 'hide-narrow' },
        { title: 'Started', cell: (r) => when(r.started) }, { title: 'Hosts', cell: (r) => `${r.done} of ${r.hosts}` },
        { title: 'Outcomes', cell: counts }, { title: 'State', cell: (r) => r.finished.startsWith('0001-') ? 'running' : 'finished' },
      ], runs, { empty: 'No run reported yet: muster push --server URL --token TOKEN reports its runs here.' }),
      el('h2', {}, 'Retry queue'),
      table([
        { title: 'Host', cell: (q) => q.host }, { title: 'Failed at', cell: (q) => when(q.at) },
        { title: 'Due', cell: (q) => q.due ? 'yes: seen again' : 'no' }, { title: 'Seen again', cell: (q) => q.due ? when(q.seen_at) : '—' },
      ], queue, { empty: 'No host waits for a retry.' }));
  } catch (err) { main.append(failure(err)); }
}

let stream = null;

// One run, live: its outcomes arrive as Server-Sent Events.
function pushRun(id) {
  const rows = new Map();
  const summary = el('p', { id: 'run-summary', role: 'status', 'aria-live': 'polite' }, 'Connecting…');
  const body = el('tbody');
  const tbl = el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {},
    ['Host', 'Outcome', 'Attempts', 'Exit code', 'Error', 'At'].map((t) => el('th', { scope: 'col' }, t)))), body));
  show(`Push run ${id}`, summary, tbl);
  const es = new EventSource(`/api/v1/push/runs/${encodeURIComponent(id)}/events`);
  stream = es;
  const counts = (r) => Object.entries(r.outcomes || {}).map(([k, v]) => `${k} ${v}`).join(', ');
  es.addEventListener('outcome', (ev) => {
    const e = JSON.parse(ev.data);
    const row = el('tr', { 'data-host': e.host }, el('td', {}, e.host), el('td', {}, e.outcome), el('td', {}, e.attempts),
      el('td', {}, e.exit_code ?? '—'), el('td', {}, e.error || ''), el('td', {}, when(e.at)));
    if (rows.has(e.host)) rows.get(e.host).replaceWith(row); else body.append(row);
    rows.set(e.host, row);
    tbl.dataset.events = String(Number(tbl.dataset.events || 0) + 1);
  });
  es.addEventListener('run', (ev) => {
    const r = JSON.parse(ev.data);
    summary.textContent = `${r.done} of ${r.hosts} hosts finished${r.done ? ': ' + counts(r) : ''} (running)`;
  });
  es.addEventListener('end', (ev) => {
    const r = JSON.parse(ev.data);
    summary.textContent = `${r.done} of ${r.hosts} hosts finished: ${counts(r)} (finished ${when(r.finished)})`;
    summary.dataset.state = 'finished';
    es.close();
  });
  es.addEventListener('error', () => { if (es.readyState === EventSource.CLOSED) summary.textContent += ' (disconnected)'; });
}

// Duplicates: records of one machine, by the criteria chosen; an admin
// merges each group into its newest record.
async function duplicates() {
  const by = new URLSearchParams(location.search).get('by') || 'name,mac';
  show('Duplicates', el('p', { class: 'muted' }, 'Loading…'));
  try {
    const groups = await api('GET', `/api/v1/duplicates?by=${encodeURIComponent(by)}`);
    const choose = el('form', { class: 'toolbar', onsubmit: (ev) => {
      ev.preventDefault();
      const picked = ['name', 'serial', 'mac'].filter((c) => new FormData(ev.target).get(c) === 'on');
      navigate(`/ui/duplicates?by=${picked.join(',')}`);
    } }, ['name', 'serial', 'mac'].map((c) => el('label', {}, `same ${c === 'mac' ? 'MAC' : c}`,
      el('input', { type: 'checkbox', name: c, checked: by.split(',').includes(c) }))), el('button', { type: 'submit' }, 'Find'));
    const merge = changeForm('Merge every group into its newest record', [], async () => {
      await api('POST', '/api/v1/duplicates/merge', { by });
      duplicates();
    });
    show('Duplicates', choose, groups.length ? merge : '',
      table([
        { title: 'Machine', cell: (g) => g.keep.name }, { title: 'Kept (newest)', cell: (g) => el('a', { href: `/ui/device/${g.keep.id}` }, g.keep.deviceid) },
        { title: 'Merged into it', cell: (g) => g.others.map((o) => o.deviceid).join(', ') }, { title: 'Why', cell: (g) => g.why },
      ], groups, { empty: 'No duplicates by these criteria.' }));
  } catch (err) { main.append(failure(err)); }
}

// Groups: dynamic (a query) or static; each with its members now.
async function groups() {
  show('Groups', el('p', { class: 'muted' }, 'Loading…'));
  try {
    const list = await api('GET', '/api/v1/groups');
    const add = changeForm('Save group', [
      field('Name', 'name', { required: true, maxlength: 64, id: 'group-name' }),
      field('Query (has software "7-zip" < "23" and os ~ "windows"…)', 'query', { required: true, maxlength: 4096, size: 50, id: 'group-query' }),
    ], async (f) => {
      await api('PUT', `/api/v1/groups/${encodeURIComponent(f.get('name'))}`, { query: f.get('query') });
      navigate(`/ui/groups/${encodeURIComponent(f.get('name'))}`);
    });
    show('Groups', add, table([
      { title: 'Group', cell: (g) => el('a', { href: `/ui/groups/${encodeURIComponent(g.name)}` }, g.name) },
      { title: 'Kind', cell: (g) => g.query ? 'dynamic' : 'static' }, { title: 'Query', cell: (g) => g.query || '—' },
      { title: 'By', cell: (g) => g.who || '—', cls: 'hide-narrow' },
    ], list, { empty: 'No group yet: muster group add, or the form above.' }));
  } catch (err) { main.append(failure(err)); }
}

async function groupPage(name) {
  show(`Group ${name}`, el('p', { class: 'muted' }, 'Loading…'));
  try {
    const members = await api('GET', `/api/v1/groups/${encodeURIComponent(name)}/members`);
    show(`Group ${name}`, el('p', { id: 'group-count', 'data-total': members.length }, `${members.length} device${members.length === 1 ? '' : 's'} now`),
      table([{ title: 'Device', cell: (m) => el('a', { href: `/ui/device/${m.id}` }, m.name || m.deviceid) }, { title: 'DEVICEID', cell: (m) => m.deviceid }],
        members, { empty: 'No device matches now.' }));
  } catch (err) { main.append(failure(err)); }
}

// Clients: activation codes and installer links; admins add clients.
async function clients() {
  show('Clients', el('p', { class: 'muted' }, 'Loading…'));
  try {
    const list = await api('GET', '/api/v1/clients');
    show('Clients',
      changeForm('Add client', field('Name', 'name', { required: true, maxlength: 64 }), async (f) => {
        await api('POST', '/api/v1/clients', { name: f.get('name') });
        clients();
      }),
      table([
        { title: 'Client', cell: (c) => c.name }, { title: 'Activation code', cell: (c) => c.code },
        { title: 'Devices', cell: (c) => c.devices },
        { title: 'Installers', cell: (c) => [el('a', { href: `/download?id=latest-win-exe&code=${encodeURIComponent(c.code)}` }, 'exe'), ' ',
          el('a', { href: `/download?id=latest-win-msi&code=${encodeURIComponent(c.code)}` }, 'msi')] },
        { title: 'Created', cell: (c) => when(c.created), cls: 'hide-narrow' },
      ], list));
  } catch (err) { main.append(failure(err)); }
}

// Users: admins add users with a role.
async function users() {
  show('Users', el('p', { class: 'muted' }, 'Loading…'));
  try {
    const list = await api('GET', '/api/v1/users');
    show('Users',
      changeForm('Add user', [field('Name', 'name', { required: true, maxlength: 64 }),
        el('label', {}, 'Role', el('select', { name: 'role' }, el('option', { value: 'viewer' }, 'viewer'), el('option', { value: 'admin' }, 'admin'))),
        field('Password', 'password', { type: 'password', required: true, minlength: 8, maxlength: 72, autocomplete: 'new-password' })],
      async (f) => {
        await api('POST', '/api/v1/users', { name: f.get('name'), role: f.get('role'), password: f.get('password') });
        users();
      }),
      table([{ title: 'Name', cell: (u) => u.name }, { title: 'Role', cell: (u) => u.role }, { title: 'Created', cell: (u) => when(u.created) }], list));
  } catch (err) { main.append(failure(err)); }
}

// Audit log: every change, who made it and when.
async function audit() {
  show('Audit log', el('p', { class: 'muted' }, 'Loading…'));
  try {
    const log = await api('GET', '/api/v1/audit?limit=200');
    show('Audit log', table([
      { title: 'When', cell: (e) => when(e.at) }, { title: 'Who', cell: (e) => e.who },
      { title: 'What', cell: (e) => e.action }, { title: 'Detail', cell: (e) => e.detail || '' },
    ], log));
  } catch (err) { main.append(failure(err)); }
}

function route() {
  if (stream) { stream.close(); stream = null; }
  const path = location.pathname;
  let m;
  if ((m = path.match(/^\/ui\/device\/([^/]+)$/))) return device(decodeURIComponent(m[1]));
  if ((m = path.match(/^\/ui\/packages\/([^/]+)$/))) return packagePage(decodeURIComponent(m[1]));
  if ((m = path.match(/^\/ui\/push\/([^/]+)$/))) return pushRun(decodeURIComponent(m[1]));
  if ((m = path.match(/^\/ui\/groups\/([^/]+)$/))) return groupPage(decodeURIComponent(m[1]));
  switch (path) {
    case '/ui/network': return network();
    case '/ui/push': return pushRuns();
    case '/ui/duplicates': return duplicates();
    case '/ui/groups': return groups();
    case '/ui/packages': return packagesPage();
    case '/ui/clients': return clients();
    case '/ui/users': return users();
    case '/ui/audit': return audit();
    default: return fleet();
  }
}

function navigate(url) {
  history.pushState(null, '', url);
  route();
  main.focus();
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a');
  if (!a || a.target || a.hasAttribute('download') || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui/')) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', route);

(async () => {
  try {
    me = await api('GET', '/api/v1/me');
    document.getElementById('me').textContent = `${me.name} (${me.role})`;
    document.getElementById('logout-csrf').value = me.csrf || '';
  } catch (err) { main.replaceChildren(failure(err)); return; }
  route();
})();
