// The signer page: plays the signer's phone. Pick a signer (ЕГН, phone or e-mail), see their
// pending documents with Sign and Reject (Reject asks for a reason), read the SMS code of an OTP
// signing, and the history. Plain HTML and vanilla JS over /sim/api; every user-provided text is
// put into the page as text nodes (never as HTML), so descriptions cannot inject markup.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evrotrust sandbox · signer's phone</title>
<style>
  :root { --blue: #0b4f9c; --green: #1c7c3c; --red: #b3261e; --grey: #5f6b7a; --bg: #eef2f7; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: #1d2733; }
  .phone { max-width: 440px; margin: 24px auto; background: #fff; border-radius: 28px; box-shadow: 0 10px 40px rgba(15, 40, 80, .18); overflow: hidden; min-height: 640px; }
  header { background: var(--blue); color: #fff; padding: 18px 20px 16px; }
  header h1 { margin: 0; font-size: 19px; letter-spacing: .2px; }
  header p { margin: 2px 0 0; opacity: .8; font-size: 13px; }
  main { padding: 16px 18px 24px; }
  form.pick { display: flex; gap: 8px; }
  input { font: inherit; padding: 9px 11px; border: 1px solid #c4ccd6; border-radius: 10px; width: 100%; }
  input:focus { outline: 2px solid #8db4e6; border-color: var(--blue); }
  button { font: inherit; font-weight: 600; border: 0; border-radius: 10px; padding: 9px 14px; cursor: pointer; background: #e3e8ef; color: #1d2733; }
  button.primary { background: var(--blue); color: #fff; }
  button.sign { background: var(--green); color: #fff; }
  button.reject { background: #fff; color: var(--red); border: 1px solid var(--red); }
  button.danger { background: var(--red); color: #fff; }
  button:disabled { opacity: .5; cursor: default; }
  .chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 10px 0 0; }
  .chip { background: #e8eef7; color: var(--blue); border-radius: 999px; padding: 4px 10px; font-size: 13px; font-weight: 500; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .6px; color: var(--grey); margin: 22px 0 8px; }
  .who { margin: 14px 0 0; color: var(--grey); font-size: 13px; }
  .who strong { color: #1d2733; }
  .card { border: 1px solid #dde3ea; border-radius: 16px; padding: 14px; margin: 0 0 10px; }
  .card.pending { border-color: #b9cde8; box-shadow: 0 2px 8px rgba(11, 79, 156, .08); }
  .desc { font-weight: 600; margin: 0 0 4px; white-space: pre-wrap; overflow-wrap: anywhere; }
  .meta { color: var(--grey); font-size: 12.5px; margin: 0; overflow-wrap: anywhere; }
  .actions { display: flex; gap: 8px; margin-top: 12px; }
  .actions button { flex: 1; }
  .reason { margin-top: 10px; display: grid; gap: 8px; }
  .otp { margin-top: 10px; background: #f3f7fc; border-radius: 12px; padding: 10px 12px; }
  .otp .code { font: 700 28px/1.2 ui-monospace, SFMono-Regular, Menlo, monospace; letter-spacing: 6px; color: var(--blue); }
  .badge { display: inline-block; font-size: 11.5px; font-weight: 700; border-radius: 6px; padding: 1px 7px; margin-right: 6px; vertical-align: 1px; }
  .s1 { background: #fff4d6; color: #8a5a00; } .s2 { background: #dcf3e3; color: var(--green); }
  .s3 { background: #fde2e0; color: var(--red); } .s4, .s5, .s6, .s7, .s99 { background: #e6e9ee; color: var(--grey); }
  .kind { background: #e8eef7; color: var(--blue); }
  .empty { color: var(--grey); font-size: 14px; margin: 4px 0 12px; }
  #toast { position: fixed; left: 50%; bottom: 24px; transform: translateX(-50%); background: #1d2733; color: #fff; padding: 10px 16px; border-radius: 10px; font-size: 14px; display: none; max-width: 90vw; }
  footer { color: var(--grey); font-size: 12px; text-align: center; padding: 0 0 24px; }
</style>
</head>
<body>
<div class="phone">
  <header><h1>Evrotrust · sandbox</h1><p>The signer's phone, simulated</p></header>
  <main>
    <form class="pick" id="pick">
      <input id="signer" name="signer" list="known" placeholder="ЕГН, phone or e-mail" autocomplete="off" aria-label="Signer">
      <datalist id="known"></datalist>
      <button class="primary" type="submit">Open</button>
    </form>
    <div class="chips" id="chips"></div>
    <p class="who" id="who"></p>
    <section id="pending-section"><h2>Waiting for your signature</h2><div id="pending"></div></section>
    <section id="history-section"><h2>History</h2><div id="history"></div></section>
  </main>
</div>
<footer>Local simulator: nothing here reaches Evrotrust.</footer>
<div id="toast" role="status"></div>
<script src="/sim/phone.js"></script>
</body>
</html>
`;

export const PAGE_SCRIPT = `'use strict';
(function () {
  var STATUS = { 1: 'Pending', 2: 'Signed', 3: 'Rejected', 4: 'Expired', 5: 'Failed', 6: 'Withdrawn', 7: 'Undeliverable', 8: 'Face recognition failed', 99: 'On hold' };
  var current = '';
  var busy = false;       // an action is running
  var rejecting = {};     // transactionID -> true while its reason form is open (pauses auto-refresh)

  function el(tag, props) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.indexOf('on') === 0) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.append(child); // strings become text nodes: never parsed as HTML
    }
    return node;
  }

  function toast(message) {
    var t = document.getElementById('toast');
    t.textContent = message;
    t.style.display = 'block';
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.style.display = 'none'; }, 3500);
  }

  function api(method, path, body) {
    var init = { method: method, cache: 'no-store', headers: {} };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch('/sim/api' + path, init).then(function (res) {
      if (res.status === 204) return null;
      return res.json().then(function (json) {
        if (!res.ok) throw new Error(json && json.message ? json.message : 'HTTP ' + res.status);
        return json;
      });
    });
  }

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? '' : d.toLocaleString();
  }

  function badge(status) {
    return el('span', { class: 'badge s' + status, text: STATUS[status] || ('Status ' + status) });
  }

  function act(promise, done) {
    busy = true;
    promise.then(function () { toast(done); }, function (err) { toast(err.message); })
      .then(function () { busy = false; refresh(); });
  }

  function pendingCard(tx) {
    var card = el('article', { class: 'card pending', 'data-tx': tx.transactionID },
      el('p', { class: 'desc', text: tx.description || '(no description)' }),
      el('p', { class: 'meta' },
        el('span', { class: 'badge kind', text: tx.kind === 'offline' ? 'SMS code' : tx.kind === 'group' ? 'In app · ' + (tx.documents || []).length + ' documents' : 'In app' }),
        (tx.documents ? '' : tx.filename) + ' · sent ' + when(tx.createdAt) + (tx.dateExpire ? ' · expires ' + when(tx.dateExpire * 1000) : '')),
      el('p', { class: 'meta', text: 'Transaction ' + tx.transactionID }));
    if (tx.documents) card.append(documentList(tx));

    if (tx.kind === 'offline') {
      card.append(el('div', { class: 'otp' },
        el('div', { class: 'meta', text: 'SMS from Evrotrust: your signing code is' }),
        el('div', { class: 'code', 'data-otp': tx.transactionID, text: tx.otpCode || '—' }),
        el('div', { class: 'meta', text: 'Give it to the service that asked for your signature.' + (tx.otpExpiresAt ? ' Valid until ' + when(tx.otpExpiresAt) + '.' : '') })));
      return card;
    }

    var actions = el('div', { class: 'actions' });
    var sign = el('button', { class: 'sign', type: 'button', text: 'Sign', onclick: function () {
      sign.disabled = true;
      act(api('POST', '/transactions/' + encodeURIComponent(tx.transactionID) + '/sign'), 'Signed');
    } });
    var reject = el('button', { class: 'reject', type: 'button', text: 'Reject', onclick: function () { openReason(); } });
    actions.append(sign, reject);
    card.append(actions);

    function openReason() {
      rejecting[tx.transactionID] = true;
      actions.style.display = 'none';
      var input = el('input', { type: 'text', name: 'reason', placeholder: 'Why do you reject it?', maxlength: '1000', 'aria-label': 'Reason for rejecting' });
      var confirm = el('button', { class: 'danger', type: 'submit', text: 'Confirm reject' });
      var cancel = el('button', { type: 'button', text: 'Cancel', onclick: function () {
        delete rejecting[tx.transactionID];
        form.remove();
        actions.style.display = '';
      } });
      var form = el('form', { class: 'reason', onsubmit: function (event) {
        event.preventDefault();
        var reason = input.value.trim();
        if (!reason) { toast('Please give a reason.'); input.focus(); return; }
        confirm.disabled = true;
        delete rejecting[tx.transactionID];
        act(api('POST', '/transactions/' + encodeURIComponent(tx.transactionID) + '/reject', { reason: reason }), 'Rejected');
      } }, input, el('div', { class: 'actions' }, confirm, cancel));
      card.append(form);
      input.focus();
    }
    return card;
  }

  function historyCard(tx) {
    return el('article', { class: 'card', 'data-tx': tx.transactionID },
      el('p', { class: 'desc', text: tx.description || '(no description)' }),
      el('p', { class: 'meta' }, badge(tx.status), (tx.documents ? tx.documents.length + ' documents' : tx.filename) + ' · ' + when(tx.updatedAt)),
      tx.documents ? documentList(tx) : null,
      tx.rejectReason ? el('p', { class: 'meta', text: 'Reason: ' + tx.rejectReason }) : null);
  }

  // A group (one signing of several documents): each document with its description; Sign signs them all.
  function documentList(tx) {
    var list = el('ol', { class: 'docs', 'data-docs': tx.transactionID });
    tx.documents.forEach(function (d) {
      list.append(el('li', { 'data-doc': String(d.index + 1) },
        el('span', { class: 'doc-name', text: d.filename }),
        d.optional ? el('span', { class: 'badge kind', text: 'optional' }) : null,
        d.description ? el('span', { class: 'meta', text: ' — ' + d.description }) : null));
    });
    return list;
  }

  function render(list) {
    var pending = document.getElementById('pending');
    var historyBox = document.getElementById('history');
    var open = list.filter(function (tx) { return tx.status === 1 || tx.status === 99; });
    var done = list.filter(function (tx) { return tx.status !== 1 && tx.status !== 99; });
    pending.replaceChildren.apply(pending, open.length ? open.map(pendingCard) : [el('p', { class: 'empty', text: 'Nothing to sign right now.' })]);
    historyBox.replaceChildren.apply(historyBox, done.length ? done.map(historyCard) : [el('p', { class: 'empty', text: 'No documents yet.' })]);
  }

  function renderSigners(signers) {
    var known = document.getElementById('known');
    known.replaceChildren.apply(known, signers.map(function (s) { return el('option', { value: s }); }));
    var chips = document.getElementById('chips');
    chips.replaceChildren.apply(chips, signers.slice(0, 12).map(function (s) {
      return el('button', { class: 'chip', type: 'button', text: s, onclick: function () { choose(s); } });
    }));
  }

  function refresh() {
    if (busy || Object.keys(rejecting).length) return;
    api('GET', '/signers').then(renderSigners, function () {});
    var who = document.getElementById('who');
    var sections = [document.getElementById('pending-section'), document.getElementById('history-section')];
    if (!current) {
      who.textContent = 'Choose a signer to see their documents.';
      sections.forEach(function (s) { s.hidden = true; });
      return;
    }
    sections.forEach(function (s) { s.hidden = false; });
    who.replaceChildren('Signed in as ', el('strong', { text: current }));
    api('GET', '/transactions?signer=' + encodeURIComponent(current)).then(function (list) {
      if (!busy && !Object.keys(rejecting).length) render(list);
    }, function (err) { toast(err.message); });
  }

  function choose(signer) {
    current = signer.trim();
    document.getElementById('signer').value = current;
    rejecting = {};
    history.replaceState(null, '', current ? '#signer=' + encodeURIComponent(current) : '#');
    refresh();
  }

  document.getElementById('pick').addEventListener('submit', function (event) {
    event.preventDefault();
    choose(document.getElementById('signer').value);
  });

  var match = /^#signer=(.*)$/.exec(location.hash);
  choose(match ? decodeURIComponent(match[1]) : '');
  setInterval(refresh, 1500);
})();
`;
