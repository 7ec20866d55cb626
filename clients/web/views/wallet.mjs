// The wallet: balance, reserved and available chips, and the transfer history, newest first.
import { chips, clear, describeError, h } from '../dom.mjs';

const PAGE_SIZE = 20;

/** "wallet 42", "escrow table:nt-1-2-a", "external": the other side of an entry. */
function counterpartyName({ kind, owner }) {
  return owner ? `${kind} ${owner}` : kind;
}

export function walletView(app, main) {
  const summary = h('div.wallet-summary', { id: 'wallet-summary' }, 'Loading…');
  const rows = h('tbody', { id: 'wallet-history' });
  const older = h('button', { id: 'wallet-older', hidden: true }, 'Older');
  let nextBeforeId = null;
  let alive = true;

  async function loadBalance() {
    try {
      const balance = await app.client.walletBalance();
      if (!alive) return;
      clear(
        summary,
        h('div', {}, h('span.label', {}, 'Balance'), h('span.amount', { id: 'wallet-balance', dataset: { chips: balance.balance } }, chips(balance.balance))),
        h('div', {}, h('span.label', {}, 'Reserved'), h('span.amount', { id: 'wallet-reserved' }, chips(balance.reserved))),
        h('div', {}, h('span.label', {}, 'Available'), h('span.amount', { id: 'wallet-available' }, chips(balance.available))),
      );
    } catch (error) {
      clear(summary, h('p.error', {}, describeError(error)));
    }
  }

  async function loadPage() {
    older.disabled = true;
    try {
      const page = await app.client.walletHistory({ beforeId: nextBeforeId, limit: PAGE_SIZE });
      if (!alive) return;
      for (const entry of page.entries) {
        rows.append(
          h(
            'tr',
            { dataset: { transfer: entry.transfer_id } },
            h('td', {}, new Date(entry.created_at_ms).toLocaleString()),
            h('td', {}, entry.kind.replaceAll('_', ' ')),
            h(`td.amount${entry.amount < 0 ? '.out' : '.in'}`, {}, `${entry.amount > 0 ? '+' : ''}${chips(entry.amount)}`),
            h('td', {}, counterpartyName(entry.counterparty)),
            h('td', {}, entry.state),
            h('td', {}, entry.memo),
          ),
        );
      }
      nextBeforeId = page.next_before_id;
      older.hidden = nextBeforeId === null;
    } catch (error) {
      app.flash(describeError(error));
    } finally {
      older.disabled = false;
    }
  }

  older.addEventListener('click', loadPage);
  clear(
    main,
    h('h1', {}, 'Wallet'),
    summary,
    h('h2', {}, 'History'),
    h('table.history', {}, h('thead', {}, h('tr', {}, ['When', 'What', 'Amount', 'With', 'State', 'Memo'].map((t) => h('th', {}, t)))), rows),
    older,
  );
  loadBalance();
  loadPage();
  // Money moves while the page shows (a hand ends, a cash-out is paid): refresh then.
  const stop = app.watch((body) => {
    if (body.type === 'hand_ended' || (body.type === 'seat_changed' && body.view === null)) loadBalance();
  });
  return () => {
    alive = false;
    stop();
  };
}
