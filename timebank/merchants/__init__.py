"""Merchants: shops that accept points, their offers, redemption at the counter, settlement."""
