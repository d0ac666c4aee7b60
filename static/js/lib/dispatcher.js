/**
 * The one place where server events come in. Each known event is handed to a state update and
 * then to a view render; an event nobody registered is logged, never silently dropped.
 * (After Zulip's server_events_dispatch.js.)
 */

/** A route for an event a page receives but does not show (it is known, so it is not warned about). */
export const IGNORE = Object.freeze({ update() {}, render() {} });

/**
 * routes: { eventName: { update(payload), render(payload) } }.
 * `session:state` snapshots go through here too, so a reconnect redraws along the same path.
 */
export function createDispatcher(routes) {
  const table = new Map(Object.entries(routes));

  function dispatch(event, payload) {
    const route = table.get(event);
    if (!route) {
      console.warn(`companion: unknown server event "${event}"`, payload);
      return false;
    }
    try {
      route.update(payload);
      route.render(payload);
    } catch (err) {
      // One malformed event must not stop the ones after it.
      console.error(`companion: handling "${event}" failed`, err, payload);
    }
    return true;
  }

  return { dispatch, knows: (event) => table.has(event) };
}
