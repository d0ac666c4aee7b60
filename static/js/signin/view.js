/** Small DOM helpers for the sign-in pages: text only, never HTML. */

/** The element with this id (a missing one is a bug in the page). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`companion: the page has no #${id}`);
  return node;
}

/** Create an element with text and attributes; `on<event>` keys add listeners. */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** Say how things are going (status line) and clear any earlier problem. */
export function status(text) {
  byId('status').textContent = text || '';
  const problem = byId('problem');
  problem.hidden = true;
  problem.textContent = '';
}

/** Show a problem to the person. */
export function problem(text) {
  byId('status').textContent = '';
  const node = byId('problem');
  node.textContent = text;
  node.hidden = false;
}
