"""Members, roles scoped to units, party members (dual report), guardians, login."""
