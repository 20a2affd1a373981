"""See DESIGN §6."""
