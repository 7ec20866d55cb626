// Small DOM helpers shared by the pages: no framework, no build step.

/** h('button.primary', {onclick}, 'Fold') -> an element. Attributes starting with "on" are
 * listeners; `dataset` and `style` objects are merged; children may be strings or nodes. */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const element = document.createElement(name || 'div');
  if (classes.length) element.className = classes.join(' ');
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key === 'style' && typeof value === 'object') Object.assign(element.style, value);
    else if (key in element && key !== 'list' && key !== 'form') element[key] = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function clear(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

const SUITS = { s: '♠', h: '♥', d: '♦', c: '♣' };
const RANKS = { T: '10' };

/** A card face ("As") or a card back (null). */
export function card(code) {
  if (!code) return h('span.card.back', { title: 'hidden card' }, '🂠');
  const rank = RANKS[code[0]] ?? code[0];
  const suit = code[1];
  return h(`span.card.suit-${suit}`, { title: code, dataset: { card: code } }, rank, SUITS[suit] ?? suit);
}

export function chips(amount) {
  return Number(amount).toLocaleString('en-US');
}

export const VARIANTS = {
  NT: "No-Limit Hold'em",
  FT: "Limit Hold'em",
  PT: "Pot-Limit Hold'em",
  PO: 'Pot-Limit Omaha',
  'PO/8': 'Omaha Hi/Lo',
};

export function describeError(error) {
  if (error && error.code) return `${error.code}: ${error.serverMessage || error.message}`;
  return String(error?.message ?? error);
}
