"""The house formats for the chat texts; they live in config so exports share them."""

from config.formats import day, moment, money, time_of_day

__all__ = ["day", "moment", "money", "time_of_day"]
