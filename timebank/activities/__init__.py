"""Activities, rotating QR check-in codes, badges, attendance, hours and approval."""
