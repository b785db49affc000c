"""The e-mail channel (docs/EMAIL.md): signed reply tokens and Message-IDs, the LMTP listener and
the IMAP poller (both only store), the parser, and the worker step that turns stored mail into
tickets, comments, notes or held messages through the ticket services."""
