"""The pure core: types, roles, errors, event payloads, the rules and a clock; it imports nothing of ours."""
