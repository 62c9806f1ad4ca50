const list = document.getElementById('list');
const reviewer = document.getElementById('reviewer');
const statusSel = document.getElementById('status');
const token = document.getElementById('token');
const signInForm = document.getElementById('sign-in');
const who = document.getElementById('who');
const signOut = document.getElementById('sign-out');
let auth = 'header';
sessionStorage.removeItem('xunqin-token');  // where an older page kept the token
reviewer.value = localStorage.getItem('xunqin-reviewer') || '';
reviewer.addEventListener('change', () => localStorage.setItem('xunqin-reviewer', reviewer.value));
statusSel.addEventListener('change', load);

// Signed in, the browser holds an HttpOnly cookie the server gave for the token; the
// token itself is sent once and kept nowhere. X-Xunqin-Request tells the server a
// change comes from this page, not from another site's form.
function headers(extra = {}) {
  const h = {'X-Xunqin-Request': '1', ...extra};
  if (auth === 'header') h['X-Xunqin-User'] = reviewer.value || 'reviewer-page';
  return h;
}

function showSignIn(state) {
  auth = state.auth;
  document.getElementById('reviewer-label').hidden = auth !== 'header';
  signInForm.hidden = auth !== 'tokens' || state.signed_in;
  who.hidden = signOut.hidden = !state.signed_in;
  who.textContent = state.signed_in ? `${state.name} (${state.role})` : '';
}

// Every error's body says `message` (and `error`, a short code).
async function problem(r) {
  const text = await r.text();
  try { return JSON.parse(text).message || text; }
  catch { return text; }
}

// A sign-in that ended mid-page (idle, or the user disabled): the whole page asks
// again, once, whatever request found out.
let askingAgain = false;
async function signInAgain() {
  if (askingAgain) return;
  askingAgain = true;
  await refreshSignIn();
  list.textContent = '请登录 / sign in with your access token'; token.focus();
  askingAgain = false;
}

async function refreshSignIn() {
  const r = await fetch('/session');
  showSignIn(r.ok ? await r.json() : {auth: 'tokens', signed_in: false});
}

signInForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const r = await fetch('/session', {method: 'POST', headers: headers({'Content-Type': 'application/json'}),
                                      body: JSON.stringify({token: token.value})});
  token.value = '';
  if (!r.ok) { alert('登录失败 Sign-in failed: ' + await problem(r)); return; }
  showSignIn(await r.json());
  load();
});

signOut.addEventListener('click', async () => {
  await fetch('/session', {method: 'DELETE', headers: headers()});
  await refreshSignIn();
  list.textContent = '';
});

// Photos and the waterfall page are fetched with the same headers (in header mode an
// <img src> or a link could not name the reviewer for the audit) and shown from blob URLs.
async function blobUrl(path) {
  const r = await fetch(path, {headers: headers()});
  if (r.status === 401) signInAgain();
  return r.ok ? URL.createObjectURL(await r.blob()) : null;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
}

async function record(kind, ref) {
  const r = await fetch(`/${kind}/${encodeURIComponent(ref)}`, {headers: headers()});
  if (r.status === 401) signInAgain();
  return r.ok ? r.json() : null;
}

function side(title, rec, fields) {
  // A name the station gave says nothing of who the person is: say so beside it.
  const name = rec ? (rec.name ? rec.name + (rec.name_assigned ? '（站名 station-given）' : '') : '（无名）') : '';
  const box = el('div', {}, el('h3', {}, title, ' ', name));
  if (!rec) return box;
  for (const p of rec.photos || []) {
    const img = el('img', {alt: 'photo'});
    blobUrl(`/photos/${p.id}`).then(url => { if (url) img.src = url; });
    box.append(img);
  }
  const t = el('table');
  for (const [label, key] of fields) {
    const v = Array.isArray(rec[key]) ? rec[key].join('、') : rec[key];
    if (v !== null && v !== undefined && v !== '') t.append(el('tr', {}, el('th', {}, label), el('td', {}, v)));
  }
  box.append(t);
  return box;
}

// A decision names what the reviewer saw: the pair, and the candidate's latest decision
// (none: undecided). A decided candidate changes only by an explicit override, with a
// reason; one decided since it was shown answers 409 with who decided what and when.
const STATUS_ZH = {pending: '待核对', needs_dna: '需DNA', confirmed: '已确认', rejected: '已排除'};

function describe(d) {
  const when = new Date(d.decided_at).toLocaleString('zh-CN');
  return `${d.reviewer} 于 ${when} 判为「${STATUS_ZH[d.status] || d.status}」(${d.reviewer} decided ${d.status} at ${when})`;
}

// The reason of an override is required: null when the reviewer gives up.
function askReason(override, earlier = '') {
  if (!override) return prompt('理由 Reason (optional)') || null;
  for (;;) {
    const reason = prompt('覆盖理由（必填） Reason for the override (required)', earlier || '');
    if (reason === null) return null;
    if (reason.trim()) return reason;
  }
}

async function decide(c, status) {
  if (auth === 'header' && !reviewer.value.trim()) { alert('请填写审核人 / enter your name'); reviewer.focus(); return; }
  let seen = c.latest_decision ? c.latest_decision.id : null;
  let override = seen !== null;
  if (override && !confirm(`该候选已有决定 Already decided: ${describe(c.latest_decision)}\n覆盖此决定？ Override it?`)) return;
  let reason = askReason(override);
  if (override && reason === null) return;
  for (;;) {
    const r = await fetch(`/candidates/${c.id}/decisions`, {
      method: 'POST', headers: headers({'Content-Type': 'application/json'}),
      // Signed in, the decision goes under the signed-in user; otherwise under the name typed.
      body: JSON.stringify({status, reason, missing_ref: c.missing_ref, found_ref: c.found_ref,
                            seen_decision_id: seen, override,
                            ...(auth === 'header' ? {reviewer: reviewer.value} : {})})});
    if (r.status === 401) { await signInAgain(); return; }
    if (r.status === 409) {
      const body = await r.json().catch(() => ({}));
      if (body.error === 'already_decided') {
        // Someone decided first (or the reviewer did not say override): show who, what
        // and when, and override only if the reviewer says so, naming that decision.
        const latest = body.detail.latest_decision;
        if (!confirm(`已有新的决定 Decided since: ${describe(latest)}\n覆盖此决定？ Override it?`)) { load(); return; }
        seen = latest.id;
        override = true;
        reason = askReason(true, reason);
        if (reason === null) { load(); return; }
        continue;
      }
      alert('Failed: ' + (body.message || r.statusText)); load(); return;
    }
    if (!r.ok) { alert('Failed: ' + await problem(r)); return; }
    load();
    return;
  }
}

async function load() {
  list.textContent = 'Loading…';
  const r = await fetch(`/candidates?status=${statusSel.value}&limit=30`, {headers: headers()});
  if (r.status === 401) { await signInAgain(); return; }
  if (!r.ok) { list.textContent = `Failed: ${await problem(r)}`; return; }
  const page = await r.json();
  document.getElementById('count').textContent = `${page.count} candidate(s)`;
  list.textContent = '';
  for (const c of page.data) {
    const [m, f] = await Promise.all([record('missing', c.missing_ref), record('found', c.found_ref)]);
    if (!signInForm.hidden) return;  // the sign-in ended while the page loaded
    const ev = c.evidence || {};
    const table = el('table', {}, el('tr', {}, el('th', {}, 'signal'), el('th', {}, 'level'), el('th', {}, 'weight'), el('th', {}, 'why')));
    for (const s of ev.signals || []) {
      table.append(el('tr', {}, el('td', {}, s.signal), el('td', {}, s.level),
        el('td', {class: s.weight > 0 ? 'pos' : s.weight < 0 ? 'neg' : ''}, s.weight.toFixed(1)), el('td', {}, s.detail)));
    }
    const card = el('div', {class: 'card'},
      el('div', {}, el('strong', {}, `#${c.rank ?? '-'} · score ${c.score.toFixed(1)} · p=${(c.probability ?? 0).toFixed(3)}`), ' ',
         el('span', {class: 'muted'}, ev.summary || '')),
      el('div', {class: 'pair'},
        side('寻亲登记 Report', m, [['ref', 'ref'], ['性别', 'sex'], ['出生', 'birth_year'], ['走失日期', 'missing_date'], ['走失地点', 'missing_place'], ['籍贯', 'hometown'], ['方言', 'dialect'], ['特征', 'features'], ['健康', 'health']]),
        side('受助人员 Found', f, [['ref', 'ref'], ['性别', 'sex'], ['年龄', 'age_min'], ['至', 'age_max'], ['发现日期', 'found_date'], ['发现地点', 'found_place'], ['口音', 'accent'], ['自述籍贯', 'hometown'], ['特征', 'features'], ['健康', 'health']])),
      table);
    const buttons = el('div', {});
    for (const [status, label] of [['needs_dna', '需DNA核验 Needs DNA'], ['confirmed', '确认 Confirm'], ['rejected', '排除 Reject']]) {
      const b = el('button', {}, label); b.addEventListener('click', () => decide(c, status)); buttons.append(b);
    }
    if (c.latest_decision) {
      card.append(el('p', {}, el('strong', {}, '最近决定 Latest decision: '), describe(c.latest_decision),
                     c.latest_decision.reason ? ` — ${c.latest_decision.reason}` : ''));
    }
    if (ev.competition && ev.competition.reason) {
      card.append(el('p', {}, el('strong', {}, '竞争候选 Shared: '), ev.competition.reason));
    }
    if ((c.confirm_by || []).length) {
      card.append(el('p', {}, el('strong', {}, '核验建议 To confirm: '), c.confirm_by.join('; ')));
    }
    const chart = el('button', {}, '证据瀑布图 Waterfall chart');
    chart.addEventListener('click', async () => { const url = await blobUrl(`/candidates/${c.id}/waterfall.html`); if (url) window.open(url, '_blank'); });
    card.append(el('p', {}, chart));
    card.append(buttons);
    list.append(card);
  }
  if (!page.data.length) list.textContent = 'No candidates.';
}
refreshSignIn().then(load);
