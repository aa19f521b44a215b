// The stylesheet and the script of the status page, compiled in: the page
// needs no build step and no file beside the binary.

#include "coordinator/web/web_pages.h"

namespace ingest {

std::string_view StyleSheet() {
  // Colours keep a contrast of at least 4.5:1 against their background
  // (WCAG AA); a state is always a word as well as a colour.
  return R"css(:root { color-scheme: light; --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --bg: #ffffff;
  --head: #f6f8fa; --ok: #116329; --warn: #7d4e00; --bad: #a40e26; --run: #0550ae; --off: #57606a; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .75rem 1rem;
  border-bottom: 1px solid var(--line); background: var(--head); }
header .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
header .env { color: var(--muted); }
nav ul { display: flex; gap: 1rem; margin: 0; padding: 0; list-style: none; }
nav a { color: var(--run); }
nav a[aria-current="page"] { font-weight: 700; color: var(--fg); text-decoration: none; }
.signout { margin-left: auto; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; }
h2 { font-size: 1.2rem; margin: 1.75rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
h1, h2, h3 { overflow-wrap: anywhere; }
a { color: var(--run); }
a:focus, button:focus, select:focus, input:focus { outline: 3px solid #0969da; outline-offset: 2px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
caption { text-align: left; color: var(--muted); padding-bottom: .25rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--head); white-space: nowrap; }
tbody th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bad { color: var(--bad); font-weight: 700; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
pre { background: var(--head); border: 1px solid var(--line); padding: .75rem; overflow-x: auto; white-space: pre-wrap;
  word-break: break-all; }
code { overflow-wrap: anywhere; }
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 1rem; border: 1px solid currentColor;
  font-size: .85rem; font-weight: 600; white-space: nowrap; }
.completed, .success { color: var(--ok); }
.partial { color: var(--warn); }
.failed { color: var(--bad); }
.running, .queued { color: var(--run); }
.cancelled, .pending, .skipped { color: var(--off); }
.pass-status { font-weight: 600; }
progress { width: 8rem; height: 1rem; vertical-align: middle; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: .5rem 1.5rem; margin: 0; }
dl.facts div { min-width: 0; }
dt { color: var(--muted); font-size: .85rem; }
dd { margin: 0; overflow-wrap: anywhere; }
form.filter, form.login { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin-bottom: 1rem; }
form.login { flex-direction: column; align-items: flex-start; max-width: 24rem; }
input, select, button { font: inherit; padding: .3rem .6rem; }
button { cursor: pointer; }
.error { color: var(--bad); }
.pager { margin-top: 1rem; }
.report { border-left: 4px solid var(--line); padding-left: 1rem; }
@media (max-width: 40rem) {
  body { font-size: 15px; }
  main { padding: .75rem; }
  th, td { padding: .35rem .4rem; }
  progress { width: 5rem; }
}
)css";
}

std::string_view LiveScript() {
  // Only the page of a running run has data-live: it polls the run's JSON
  // once a second and rewrites its pass rows; when the run ends it reloads
  // once for the failures and the report. Without JavaScript the page is
  // complete as served, just not live.
  return R"js((function () {
  'use strict';
  var main = document.querySelector('main[data-live]');
  if (!main || typeof window.fetch !== 'function') return;
  var url = main.getAttribute('data-live');
  function setText(node, value) {
    if (node && node.textContent !== value) node.textContent = value;
  }
  function word(value, prefix) {
    return String(value || '').replace(prefix, '').toLowerCase();
  }
  function update(run) {
    var state = word(run.state, 'RUN_STATE_');
    if (state !== 'running' && state !== 'queued') {
      window.location.reload();
      return false;
    }
    (run.passes || []).forEach(function (pass) {
      var row = main.querySelector('tr[data-pass="' + pass.pass + '"]');
      if (!row) return;
      var done = Number(pass.tasks_done || 0);
      var total = Number(pass.tasks_total || 0);
      var bar = row.querySelector('progress');
      if (bar) {
        bar.max = Math.max(total, 1);
        bar.value = done;
        bar.textContent = done + ' of ' + total;
      }
      setText(row.querySelector('[data-field="done"]'), done + ' / ' + total);
      setText(row.querySelector('[data-field="failed"]'), String(pass.documents_failed || 0));
      var status = row.querySelector('[data-field="status"]');
      var now = word(pass.status, '');
      if (status && status.textContent !== now) {
        status.textContent = now;
        status.className = 'pass-status ' + now;
      }
    });
    return true;
  }
  function poll() {
    window.fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (run) {
        if (update(run)) window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 1000);
})();
)js";
}

}  // namespace ingest
