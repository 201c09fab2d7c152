"""The domain: smsplat's rules, aggregates and events. Imports nothing from the other layers."""
