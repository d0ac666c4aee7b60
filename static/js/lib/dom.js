/**
 * Building DOM nodes without parsing HTML: every string goes in as text,
 * so text from users can never become markup.
 */

/**
 * Create an element.
 * props: `class`, `text`, `on<event>` listeners (onclick, onsubmit...), any other key is an attribute
 * (true gives an empty attribute, false/null/undefined leave it out).
 */
export function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

/** Append nodes or strings (as text) to a parent; skips null and false. */
export function append(parent, children) {
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

/** The element with this id; a missing one is a bug in the page, so say which. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`companion: the page has no #${id}`);
  return node;
}

/** Set text only when it changed, so screen readers and selections are not disturbed. */
export function setText(node, text) {
  const value = text === null || text === undefined ? '' : String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** Show or hide with the hidden attribute (styled by the stylesheet, never inline). */
export function show(node, visible) {
  node.hidden = !visible;
}

/** Put the children into a list node in this order, moving only the nodes that are out of place. */
export function reorder(parent, nodes) {
  nodes.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild.remove();
}

/** True when the user is typing in or has focus inside this node (so a redraw must not clobber it). */
export function hasFocusWithin(node) {
  return node.contains(document.activeElement);
}
