"""mock-interview: practise behavioural interviews out loud, offline."""

__version__ = "0.1.0"
