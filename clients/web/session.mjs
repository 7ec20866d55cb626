// What a browser tab keeps across reloads (sessionStorage: per tab, gone when it closes):
// the server's websocket URL, the session's token and last push seq (to resume), and the
// seat held at each table (the protocol's seat views carry player ids, not "you").

const KEY = 'tablium.session';

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? '{}');
  } catch {
    return {};
  }
}

export const stored = {
  get() {
    return load();
  },
  update(patch) {
    const next = { ...load(), ...patch };
    sessionStorage.setItem(KEY, JSON.stringify(next));
    return next;
  },
  forget() {
    const { wsUrl } = load();
    sessionStorage.setItem(KEY, JSON.stringify({ wsUrl }));
  },
};

/** The websocket URL: ?ws= on the page's address wins (kept for the tab), then the one kept,
 * then the server's config.json (its ws_port on this page's host). */
export async function websocketUrl() {
  const fromQuery = new URLSearchParams(location.search).get('ws');
  if (fromQuery) return stored.update({ wsUrl: fromQuery }).wsUrl;
  const kept = load().wsUrl;
  if (kept) return kept;
  const response = await fetch(new URL('config.json', location.href));
  const config = await response.json();
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const port = config.ws_port ?? 8765;
  return stored.update({ wsUrl: `${scheme}://${location.hostname}:${port}` }).wsUrl;
}
