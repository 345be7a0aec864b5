"""The gallery's tabs: one thin module per tab (UI and event wiring only)."""
