// Shared by the Node.js tests that run against a real `tablium serve` (started by
// tests/clients/ in pytest, which passes its addresses and a staff token in the environment).
import WebSocket from 'ws';
import { TabliumClient } from '../src/tablium.mjs';

export const env = {
  wsUrl: required('TABLIUM_WS_URL'),
  adminUrl: required('TABLIUM_ADMIN_URL'),
  apiUrl: process.env.TABLIUM_API_URL ?? '',
  staffToken: required('TABLIUM_STAFF_TOKEN'), // role admin: funds wallets, opens tables
  runTag: process.env.TABLIUM_RUN_TAG ?? `${process.pid}`,
};

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through pytest tests/clients`);
  return value;
}

let names = 0;
/** A player name unique to this run (names are 3-24 characters). */
export function uniqueName(prefix) {
  names += 1;
  return `${prefix}${env.runTag}${names}`.slice(0, 24);
}

export async function newClient(options = {}) {
  const client = new TabliumClient(env.wsUrl, { WebSocket, clientName: 'sdk-test', ...options });
  await client.connect();
  return client;
}

/** The admin API with the staff token; throws on a non-2xx answer, naming its error code. */
export async function admin(method, path, body) {
  const response = await fetch(new URL(path, env.adminUrl), {
    method,
    headers: { Authorization: `Bearer ${env.staffToken}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const payload = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(payload)}`);
  return payload;
}

export async function playerId(name) {
  const { players } = await admin('GET', `/players?q=${encodeURIComponent(name)}&limit=10`);
  const found = players.find((row) => row.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new Error(`no account named ${name}`);
  return found.id;
}

/** Credit chips through the admin API (a double-entry transfer from the house, audited). */
export async function fund(name, amount) {
  const id = await playerId(name);
  await admin('POST', `/players/${id}/wallet/adjustments`, {
    amount,
    reason: 'client tests: chips to buy in with',
    key: `client-test:${env.runTag}:${name}`.slice(0, 64),
  });
  return id;
}

/** A fresh table for one test, so tests do not meet each other's players. */
export async function openTable(tableId, options = {}) {
  await admin('POST', '/tables', {
    table_id: tableId,
    name: `Test ${tableId}`.slice(0, 64),
    variant: 'NT',
    small_blind: 1,
    big_blind: 2,
    seats: 6,
    reason: 'client tests',
    ...options,
  });
  return tableId;
}

/** What a calling station answers: show at a showdown, run once, else check or call. */
export function passiveAction(legal) {
  if (legal.show) return ['show', {}];
  if (legal.run_it_twice) return ['run_it_twice', { agree: false }];
  return ['check_or_call', {}];
}

/** Answer every prompt for my seat at `tableId` like a calling station. */
export function callingStation(client, tableId, seat) {
  return client.on('action_required', (prompt) => {
    if (prompt.table_id !== tableId || prompt.seat !== seat()) return;
    const [action, options] = passiveAction(prompt.legal);
    client.act(prompt, action, options).catch(() => {}); // a stale prompt's refusal is fine
  });
}

/** Poll `check` until it returns a value other than undefined: for effects that the server
 * applies after its reply (a cash-out is paid by the table's next message, after left_table).
 * Bounded: `attempts` tries `delayMs` apart, then the last error or a timeout. */
export async function eventually(check, { attempts = 50, delayMs = 100, what = 'the condition' } = {}) {
  let lastError = null;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  throw lastError ?? new Error(`${what} did not happen within ${attempts * delayMs} ms`);
}
