/**
 * My help request: {ticket_id, state: waiting|claimed|resolved|unresolved|withdrawn, position, note}
 * or none. `note` is the support note once resolved.
 */

export function createHelpState() {
  return {
    ticket: null,

    /** From `session:state` (my latest ticket, or null). */
    replace(ticket) {
      this.ticket = ticket && ticket.ticket_id ? { ...ticket } : null;
    },

    /** A `help:ticket` event: about my current ticket, or a newer one. */
    apply(event) {
      if (!event || !event.ticket_id) return;
      this.ticket = { ...(this.ticket?.ticket_id === event.ticket_id ? this.ticket : {}), ...event };
    },

    /** The ack of `help:open`. */
    opened(ack) {
      this.ticket = { ticket_id: ack.ticket_id, state: 'waiting', position: ack.position ?? null };
    },

    /** The ack of my own `help:withdraw` (the `help:ticket` that follows says the same). */
    withdrawn(ticketId) {
      if (this.ticket?.ticket_id === ticketId) this.ticket = { ...this.ticket, state: 'withdrawn', position: null };
    },

    get isOpen() {
      return this.ticket !== null && (this.ticket.state === 'waiting' || this.ticket.state === 'claimed');
    },
  };
}
