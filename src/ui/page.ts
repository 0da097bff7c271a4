// The signings page's three static files (src/ui/routes.ts serves them). Plain browser JavaScript
// with no build step and no dependencies: it talks to the business API, /v1/signings, with the
// token the user enters, and renders with createElement + textContent only.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signings · evrotrust-signing</title>
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<header><h1>Signings</h1><span id="who"></span></header>
<main>
  <section id="login" hidden>
    <form id="login-form">
      <label>API token <input id="token" type="password" autocomplete="off" required minlength="16"></label>
      <button type="submit">Open</button>
    </form>
    <p class="hint">The token stays in this browser tab only.</p>
  </section>
  <section id="list" hidden>
    <form id="filters">
      <fieldset id="statuses"><legend>Status</legend></fieldset>
      <label>Reference <input id="reference" type="text" maxlength="200"></label>
      <label>Created after <input id="created-after" type="datetime-local"></label>
      <label>Created before <input id="created-before" type="datetime-local"></label>
      <button type="submit">Search</button>
      <button type="button" id="sign-out">Forget token</button>
    </form>
    <table id="signings"><thead><tr><th>Created</th><th>Reference</th><th>Status</th><th>Signers</th><th>Expires</th><th>Id</th></tr></thead><tbody></tbody></table>
    <p id="empty" hidden>No signings match.</p>
    <button type="button" id="more" hidden>More</button>
  </section>
  <section id="detail" hidden>
    <p><a href="#" id="back">← All signings</a></p>
    <h2 id="detail-title"></h2>
    <dl id="facts"></dl>
    <p id="links"></p>
    <h3>Signers</h3>
    <table id="signers"><thead><tr><th>#</th><th>Transaction</th><th>Status</th><th>Reason</th></tr></thead><tbody></tbody></table>
    <h3>History</h3>
    <table id="events"><thead><tr><th>When</th><th>What</th><th>Details</th></tr></thead><tbody></tbody></table>
  </section>
  <p id="error" role="alert" hidden></p>
</main>
</body>
</html>
`;

export const PAGE_CSS = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { display: flex; align-items: baseline; gap: 1em; padding: 0.8em 1.5em; background: #1d3b6e; color: #fff; }
header h1 { margin: 0; font-size: 1.3em; }
main { padding: 1em 1.5em; max-width: 1200px; }
form#filters { display: flex; flex-wrap: wrap; gap: 0.8em; align-items: end; margin-bottom: 1em; }
fieldset { border: 1px solid #c9ced8; padding: 0.3em 0.6em; }
fieldset label { margin-right: 0.6em; white-space: nowrap; }
label { display: inline-flex; flex-direction: column; font-size: 0.9em; }
fieldset label { flex-direction: row; gap: 0.2em; }
input, button { font: inherit; padding: 0.25em 0.5em; }
table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: 1em; }
th, td { text-align: left; padding: 0.4em 0.6em; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.id, td.mono { font-family: ui-monospace, monospace; font-size: 0.85em; }
.status { display: inline-block; padding: 0 0.5em; border-radius: 0.7em; font-size: 0.85em; background: #e3e6eb; }
.status.signed { background: #cdeccf; } .status.pending { background: #fdf0c2; }
.status.rejected, .status.failed { background: #f6cfcf; } .status.expired, .status.withdrawn { background: #dcdfe5; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }
dt { font-weight: 600; } dd { margin: 0; }
#links a { margin-right: 1.2em; }
#error { color: #8a1010; background: #fbe4e4; padding: 0.6em; }
.hint { color: #5b6272; font-size: 0.9em; }
pre { margin: 0; white-space: pre-wrap; font-size: 0.85em; }
`;

export const PAGE_JS = `'use strict';
(() => {
  const STATUSES = ['pending', 'signed', 'rejected', 'expired', 'withdrawn', 'failed'];
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const row = (cells) => {
    const tr = el('tr');
    for (const c of cells) {
      const td = el('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? '' : String(c);
      tr.appendChild(td);
    }
    return tr;
  };
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  const badge = (status) => el('span', status, 'status ' + status);
  let config = { temporalUiUrl: null, namespace: 'default' };
  let cursor = null;
  let objectUrl = null;
  let groupUrls = [];

  const token = () => sessionStorage.getItem('evrotrust-signing-token');
  const showError = (message) => { const e = $('error'); e.textContent = message; e.hidden = !message; };
  class ApiError extends Error { constructor(status, message) { super(message); this.status = status; } }
  async function api(path, as) {
    const res = await fetch(path, { headers: { authorization: 'Bearer ' + token() } });
    if (!res.ok) {
      let message = res.status + ' ' + res.statusText;
      try { const b = await res.json(); if (b && b.message) message = b.message; } catch (e) { /* not JSON */ }
      throw new ApiError(res.status, message);
    }
    return as === 'blob' ? res.blob() : res.json();
  }
  function failed(err) {
    if (err instanceof ApiError && err.status === 401) { sessionStorage.removeItem('evrotrust-signing-token'); route(); }
    showError(err instanceof Error ? err.message : String(err));
  }
  const show = (id) => { for (const s of ['login', 'list', 'detail']) $(s).hidden = s !== id; };

  function query() {
    const q = new URLSearchParams();
    const checked = STATUSES.filter((s) => $('status-' + s).checked);
    if (checked.length > 0 && checked.length < STATUSES.length) q.set('status', checked.join(','));
    const ref = $('reference').value.trim();
    if (ref) q.set('reference', ref);
    const after = $('created-after').value, before = $('created-before').value;
    if (after) q.set('createdAfter', new Date(after).toISOString());
    if (before) q.set('createdBefore', new Date(before).toISOString());
    q.set('limit', '50');
    return q;
  }
  async function load(more) {
    showError('');
    const q = query();
    if (more && cursor) q.set('cursor', cursor);
    try {
      const page = await api('/v1/signings?' + q.toString());
      const body = $('signings').tBodies[0];
      if (!more) body.replaceChildren();
      for (const s of page.items) {
        const link = el('a', s.id);
        link.href = '#/signings/' + encodeURIComponent(s.id);
        const id = el('span'); id.appendChild(link);
        const tr = row([when(s.createdAt), s.reference || '—', badge(s.status), s.signers.length, when(s.expiresAt), id]);
        tr.lastChild.className = 'id';
        body.appendChild(tr);
      }
      cursor = page.nextCursor;
      $('more').hidden = !cursor;
      $('empty').hidden = body.rows.length > 0;
    } catch (err) { failed(err); }
  }
  async function detail(id) {
    showError('');
    if (objectUrl) { URL.revokeObjectURL(objectUrl); objectUrl = null; }
    groupUrls.forEach((u) => URL.revokeObjectURL(u));
    groupUrls = [];
    try {
      const [s, history] = await Promise.all([api('/v1/signings/' + encodeURIComponent(id)), api('/v1/signings/' + encodeURIComponent(id) + '/events')]);
      $('detail-title').replaceChildren(el('span', 'Signing '), el('span', s.id, 'mono'), el('span', ' '), badge(s.status));
      const facts = $('facts');
      facts.replaceChildren();
      const fact = (k, v) => { if (v === undefined || v === null || v === '') return; facts.appendChild(el('dt', k)); facts.appendChild(el('dd', v)); };
      fact('Reference', s.reference);
      fact('Method', s.method === 'otp' ? 'SMS code (OTP)' : 'Evrotrust app');
      fact('Created', when(s.createdAt));
      fact('Expires', when(s.expiresAt));
      fact('Final since', when(s.finalizedAt));
      fact('Reason', s.rejectReason || s.failureReason);
      if (s.signedDocument) fact('Signed file', s.signedDocument.filename + ' (' + s.signedDocument.size + ' bytes, sha256 ' + s.signedDocument.sha256.slice(0, 16) + '…)' + (s.signedDocument.deletedAt ? ', deleted ' + when(s.signedDocument.deletedAt) : ''));
      const links = $('links');
      links.replaceChildren();
      if (s.status === 'signed' && s.signedDocument && !s.signedDocument.deletedAt) {
        const dl = el('a', 'Download the signed file');
        dl.id = 'download';
        dl.href = '#';
        dl.addEventListener('click', async (e) => {
          if (dl.download) return; // the second click follows the blob: link
          e.preventDefault();
          try {
            const blob = await api('/v1/signings/' + encodeURIComponent(s.id) + '/signed-document', 'blob');
            objectUrl = URL.createObjectURL(blob);
            dl.href = objectUrl;
            dl.download = s.signedDocument.filename;
            dl.click();
          } catch (err) { failed(err); }
        });
        links.appendChild(dl);
      }
      // A group signing: each document, and each signed file to download (…/signed-documents/<n>).
      for (const d of s.documents || []) {
        const sd = d.signedDocument;
        fact('Document ' + d.index, d.filename + (d.optional ? ' (optional)' : '') + (sd ? ', signed (' + sd.size + ' bytes, sha256 ' + sd.sha256.slice(0, 16) + '…)' + (sd.deletedAt ? ', deleted ' + when(sd.deletedAt) : '') : ''));
        if (s.status !== 'signed' || !sd || sd.deletedAt) continue;
        const dl = el('a', 'Download signed document ' + d.index);
        dl.id = 'download-' + d.index;
        dl.href = '#';
        dl.addEventListener('click', async (e) => {
          if (dl.download) return;
          e.preventDefault();
          try {
            const blob = await api('/v1/signings/' + encodeURIComponent(s.id) + '/signed-documents/' + d.index, 'blob');
            dl.href = URL.createObjectURL(blob);
            groupUrls.push(dl.href);
            dl.download = sd.filename;
            dl.click();
          } catch (err) { failed(err); }
        });
        links.appendChild(dl);
      }
      if (config.temporalUiUrl) {
        const wf = el('a', 'Its workflow in the Temporal Web UI');
        wf.id = 'workflow-link';
        wf.href = config.temporalUiUrl + '/namespaces/' + encodeURIComponent(config.namespace) + '/workflows/' + encodeURIComponent('signing-' + s.id);
        wf.target = '_blank';
        wf.rel = 'noopener noreferrer';
        links.appendChild(wf);
      }
      const signers = $('signers').tBodies[0];
      signers.replaceChildren(...s.signers.map((x, i) => row([i + 1, x.transactionId || '—', badge(x.status), x.rejectReason || x.readiness || ''])));
      const events = $('events').tBodies[0];
      events.replaceChildren(...history.events.map((e) => row([when(e.at), e.type, e.data ? el('pre', JSON.stringify(e.data, null, 1)) : ''])));
      show('detail');
    } catch (err) { failed(err); }
  }
  function route() {
    if (!token()) { show('login'); return; }
    const m = /^#\\/signings\\/(.+)$/.exec(location.hash);
    if (m) { void detail(decodeURIComponent(m[1])); return; }
    show('list');
    void load(false);
  }

  document.addEventListener('DOMContentLoaded', async () => {
    const box = $('statuses');
    for (const s of STATUSES) {
      const label = el('label');
      const cb = el('input');
      cb.type = 'checkbox';
      cb.id = 'status-' + s;
      label.appendChild(cb);
      label.appendChild(document.createTextNode(s));
      box.appendChild(label);
    }
    try { config = await (await fetch('config.json')).json(); } catch (e) { /* no links then */ }
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sessionStorage.setItem('evrotrust-signing-token', $('token').value.trim());
      $('token').value = '';
      route();
    });
    $('filters').addEventListener('submit', (e) => { e.preventDefault(); void load(false); });
    $('more').addEventListener('click', () => void load(true));
    $('sign-out').addEventListener('click', () => { sessionStorage.removeItem('evrotrust-signing-token'); route(); });
    $('back').addEventListener('click', (e) => { e.preventDefault(); location.hash = ''; });
    window.addEventListener('hashchange', route);
    route();
  });
})();
`;
