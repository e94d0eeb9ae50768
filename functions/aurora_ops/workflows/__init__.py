"""One wing per state machine; a wing never imports another wing."""
