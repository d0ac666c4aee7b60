/** My help request: {ticket_id, state: waiting|claimed|resolved|unresolved, position} or none. */

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

    get isOpen() {
      return this.ticket !== null && (this.ticket.state === 'waiting' || this.ticket.state === 'claimed');
    },
  };
}
